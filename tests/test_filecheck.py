"""flask check-files / flask sweep-files (app/filecheck.py): attachment rows against UPLOAD_DIR."""

import io
import os
import time
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.filings.attachments import INCOMING, attachment_path, attachment_store
from app.filings.models import Attachment
from tests.uploads import stored_files

PDF = b"%PDF-1.4\n%check\n"
A_DAY_AGO = time.time() - 25 * 3600


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def store(name, content):
    attachment = attachment_store(FileStorage(io.BytesIO(content), filename=name), user=None)
    db.session.commit()
    return attachment


def old_file(path, content=b"partial"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (A_DAY_AGO, A_DAY_AGO))


def test_a_clean_folder_passes(app, app_ctx):
    store("好.pdf", PDF)
    (Path(app.config["UPLOAD_DIR"]) / "imports").mkdir()
    (Path(app.config["UPLOAD_DIR"]) / "imports" / "sheet.xlsx").write_bytes(b"PK")  # 名单导入's own
    result = run(app, "check-files")
    assert result.exit_code == 0, result.output
    assert "缺失 0 个，待放回 0 个，无主 0 个" in result.output


def test_missing_orphaned_and_left_behind_files_are_reported_then_fixed(app, app_ctx):
    folder = Path(app.config["UPLOAD_DIR"])
    kept = store("保留.pdf", PDF)
    lost = store("丢失.pdf", PDF + b"1")
    attachment_path(lost).unlink()
    # a committed row whose move into place failed: its file is still in .incoming
    stuck = store("卡住.pdf", PDF + b"2")
    os.replace(attachment_path(stuck), folder / INCOMING / stuck.stored_name)
    (folder / "0123orphan.pdf").write_bytes(b"%PDF-orphan")
    (folder / "old" / "nested.txt").parent.mkdir()
    (folder / "old" / "nested.txt").write_bytes(b"nested orphan")
    old_file(folder / INCOMING / "deadbeef.pdf")  # a killed worker's half upload
    (folder / INCOMING / "young.pdf").write_bytes(b"under way")

    result = run(app, "check-files")
    assert result.exit_code == 1
    out = result.output
    assert f"文件缺失：附件 #{lost.id}“丢失.pdf”（{lost.stored_name}）" in out
    assert f"文件在 {INCOMING} 中：附件 #{stuck.id}“卡住.pdf”" in out and "可用 --fix 放回" in out
    assert "无主文件：0123orphan.pdf" in out and "无主文件：old/nested.txt" in out
    assert f"上传残留：{INCOMING}/deadbeef.pdf" in out and f"上传残留：{INCOMING}/young.pdf" not in out
    # written by hand here, not by the app: not its modes (app/upload_modes.py; tests/test_upload_modes.py)
    assert "权限不符：0123orphan.pdf" in out or os.stat(folder / "0123orphan.pdf").st_mode & 0o777 == 0o600
    assert kept.stored_name not in out
    assert (folder / "0123orphan.pdf").exists()  # a check alone moves nothing

    result = run(app, "check-files", "--fix")
    assert result.exit_code == 1  # the missing file cannot be fixed: restore it from a backup
    [quarantine] = (folder / ".quarantine").iterdir()
    assert (quarantine / "0123orphan.pdf").read_bytes() == b"%PDF-orphan"
    assert (quarantine / "old" / "nested.txt").read_bytes() == b"nested orphan"
    assert attachment_path(stuck).read_bytes() == PDF + b"2"
    assert f"已清理上传残留：{INCOMING}/deadbeef.pdf" in result.output
    assert sorted(stored_files(app)) == sorted(
        [
            kept.stored_name,
            stuck.stored_name,
            f"{INCOMING}/young.pdf",
            f".quarantine/{quarantine.name}/0123orphan.pdf",
            f".quarantine/{quarantine.name}/old/nested.txt",
        ]
    )
    again = run(app, "check-files")
    assert again.exit_code == 1 and "缺失 1 个，待放回 0 个，无主 0 个，权限不符 0 个" in again.output


def test_sweep_files(app, app_ctx):
    folder = Path(app.config["UPLOAD_DIR"]) / INCOMING
    old_file(folder / "a.pdf")
    old_file(folder / "b.pdf")
    (folder / "c.pdf").write_bytes(b"under way")
    result = run(app, "sweep-files")
    assert result.exit_code == 0 and "已清理上传残留 2 个" in result.output
    assert sorted(os.listdir(folder)) == ["c.pdf"]
    assert run(app, "sweep-files", "--hours", "0").output.endswith("已清理上传残留 1 个。\n")
    assert db.session.query(Attachment).count() == 0


def test_a_daily_schedule_sweeps_leftovers_without_anyone_running_a_command(app, client):
    """清理上传残留 is one of the schedules: the check removes old leftovers (a killed worker's
    partial upload), keeps an upload under way, and the 定时任务 page lists it."""
    from app.jobs import Schedule, local_now, registry, schedules_check
    from tests.factories import make_province_admin
    from tests.helpers import login

    assert "files.sweep" in registry(app).schedules
    folder = Path(app.config["UPLOAD_DIR"]) / INCOMING
    old_file(folder / "killed.pdf", b"x" * 4096)
    (folder / "under-way.pdf").write_bytes(b"under way")
    with app.app_context(), app.test_request_context("/", method="POST"):
        assert "files.sweep" in schedules_check(now=local_now().replace(hour=10))
        assert db.session.get(Schedule, "files.sweep").last_result == "清理上传残留 1 个"
        db.session.remove()
    assert sorted(os.listdir(folder)) == ["under-way.pdf"]
    with app.app_context():
        admin = make_province_admin().username
    login(client, admin)
    text = client.get("/jobs/schedules").get_data(as_text=True)
    assert "清理上传残留" in text and "清理上传残留 1 个" in text
