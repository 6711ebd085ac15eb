"""The modes of what the app writes under UPLOAD_DIR (app/upload_modes.py): 0600 files in 0700
folders, whatever the umask; 0640 files in 2750 folders of UPLOAD_GROUP only when nginx sends the
files (X_ACCEL_REDIRECT_PREFIX) and UPLOAD_GROUP is set, so nginx's workers (www-data, neither
root nor the service account) can read them and nobody else can. Every writer: filings,
complaints, notices, the folder at start-up and for /healthz, flask restore, check-files' quarantine
(and its --fix of older files), the demo; the 名单导入 sheets stay owner-only. No root needed: the
group is one this process may use (its own, or another of its groups)."""

import grp
import io
import os
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from app import create_app
from app.backup import backup_create, restore_archive
from app.blueprints.portal import importer
from app.config import config_findings, storage_findings, upload_group_findings
from app.extensions import db
from app.filings.attachments import INCOMING, attachment_path, attachment_store
from app.health import _uploads
from app.upload_modes import PRIVATE, UploadModes, upload_modes
from tests.applications.test_flow import upload
from tests.complaints.conftest import FORM
from tests.factories import make_province_admin
from tests.filings.test_upload_safety import draft_with_steps_filled
from tests.helpers import login
from tests.portal.test_notice_admin import _form as notice_form
from tests.test_backup import dialect, make_instance, populate  # noqa: F401 (fixtures)

PDF = b"%PDF-1.4\n%modes\n"
PREFIX = "/_protected_files/"
RULES = {
    "private": {},
    "group without x-accel": {"UPLOAD_GROUP": "group"},
    "x-accel without group": {"X_ACCEL_REDIRECT_PREFIX": PREFIX},
    "x-accel and group": {"X_ACCEL_REDIRECT_PREFIX": PREFIX, "UPLOAD_GROUP": "group"},
}


def usable_group():
    """(name, gid) of a group this process may give its files: another than its own if it has one."""
    own = os.getegid()
    others = [gid for gid in os.getgroups() if gid != own]
    if os.geteuid() == 0:
        others += [entry.gr_gid for entry in grp.getgrall() if entry.gr_gid != own]
    gid = others[0] if others else own
    return grp.getgrgid(gid).gr_name, gid


GROUP, GID = usable_group()


def settings(rule):
    return {key: (GROUP if value == "group" else value) for key, value in RULES[rule].items()}


def expected(rule):
    if rule == "x-accel and group":
        return UploadModes(file=0o640, folder=0o2750, gid=GID)
    return PRIVATE


def assert_modes(path, modes, *, folder=False):
    stat = Path(path).stat()
    wanted = modes.folder if folder else modes.file
    assert stat.st_mode & 0o7777 == wanted, f"{path}: {stat.st_mode & 0o7777:04o}, expected {wanted:04o}"
    assert not stat.st_mode & 0o007, f"{path} is readable by others"
    if modes.gid is not None:
        assert stat.st_gid == modes.gid, f"{path}: group {stat.st_gid}, expected {modes.gid}"


def assert_tree(folder, modes):
    """The folder, and everything in it but imports/, follows the rule."""
    folder = Path(folder)
    assert_modes(folder, modes, folder=True)
    for path in folder.rglob("*"):
        if path.relative_to(folder).parts[0] == "imports":
            continue
        assert_modes(path, modes, folder=path.is_dir())


@pytest.fixture(params=[0o000, 0o077], ids=["umask000", "umask077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.fixture(params=list(RULES))
def rule(request, app, monkeypatch, tmp_path, umask):
    """A fresh (not yet made) UPLOAD_DIR under one of the four combinations of the settings."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    for key in ("X_ACCEL_REDIRECT_PREFIX", "UPLOAD_GROUP"):
        monkeypatch.setitem(app.config, key, settings(request.param).get(key))
    return request.param


def test_the_rule_follows_both_settings(app, rule):
    assert upload_modes(app.config) == expected(rule)


def test_an_attachment_in_incoming_and_in_place(app, app_ctx, rule):
    modes = expected(rule)
    attachment = attachment_store(FileStorage(io.BytesIO(PDF), filename="营业执照.pdf"), user=None)
    folder = Path(app.config["UPLOAD_DIR"])
    assert_modes(folder, modes, folder=True)
    assert_modes(folder / INCOMING, modes, folder=True)
    assert_modes(folder / INCOMING / attachment.stored_name, modes)  # before the commit
    db.session.commit()
    assert_modes(attachment_path(attachment), modes)  # moved into place, still so
    assert_tree(folder, modes)


def test_a_filing_upload(app, client, rule):
    filing_id = draft_with_steps_filled(app, client)
    assert upload(client, filing_id, ("营业执照（副本）.pdf", PDF)).status_code in (200, 303)
    folder = Path(app.config["UPLOAD_DIR"])
    assert [p for p in folder.iterdir() if p.is_file()], "nothing stored"
    assert_tree(folder, expected(rule))


def test_complaint_evidence(app, client, app_ctx, rule):
    data = {**FORM, "evidence": [(io.BytesIO(PDF), "服务协议.pdf"), (io.BytesIO(b"plain text"), "说明.txt")]}
    response = client.post("/complaints/", data=data, content_type="multipart/form-data")
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:300]
    folder = Path(app.config["UPLOAD_DIR"])
    assert len([p for p in folder.iterdir() if p.is_file()]) == 2
    assert_tree(folder, expected(rule))


def test_notice_attachments(app, client, app_ctx, rule):
    login(client, make_province_admin())
    data = {**notice_form(), "files": [(io.BytesIO(PDF), "认定工作通知.pdf")]}
    client.post("/notices/manage/new", data=data, content_type="multipart/form-data")
    folder = Path(app.config["UPLOAD_DIR"])
    assert len([p for p in folder.iterdir() if p.is_file()]) == 1
    assert_tree(folder, expected(rule))


def test_the_folder_made_at_start_up_and_by_the_health_check(app, tmp_path, rule):
    overrides = {key: app.config[key] for key in ("X_ACCEL_REDIRECT_PREFIX", "UPLOAD_GROUP")}
    fresh = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "modes-test",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "UPLOAD_DIR": str(tmp_path / "started" / "uploads"),
            **overrides,
        }
    )
    assert_modes(fresh.config["UPLOAD_DIR"], expected(rule), folder=True)
    with app.app_context():
        assert _uploads()["ok"]
        assert_modes(app.config["UPLOAD_DIR"], expected(rule), folder=True)


def test_the_import_sheets_stay_owner_only(app, app_ctx, rule):
    folder = importer._folder()
    assert_modes(folder, PRIVATE, folder=True)
    assert_modes(Path(app.config["UPLOAD_DIR"]), expected(rule), folder=True)


def test_the_quarantine_and_the_fix_of_older_files(app, app_ctx, rule):
    modes = expected(rule)
    folder = Path(app.config["UPLOAD_DIR"])
    kept = attachment_store(FileStorage(io.BytesIO(PDF), filename="保留.pdf"), user=None)
    db.session.commit()
    (folder / "old").mkdir(mode=0o755)
    (folder / "old" / "orphan.pdf").write_bytes(b"%PDF-orphan")  # mode of the umask, not the rule
    os.chmod(attachment_path(kept), 0o604)  # written by hand, or before UPLOAD_GROUP was set
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["check-files"])
    assert checked.exit_code == 1 and "权限不符：" in checked.output and kept.stored_name in checked.output
    fixed = runner.invoke(args=["check-files", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    [quarantined] = (folder / ".quarantine").rglob("orphan.pdf")
    assert quarantined.read_bytes() == b"%PDF-orphan"
    assert_tree(folder, modes)  # the quarantine's folders, the orphan, the older file: all fixed
    again = runner.invoke(args=["check-files"])
    assert again.exit_code == 0 and "权限不符 0 个" in again.output


@pytest.mark.parametrize("rule_name", ["private", "x-accel and group"])
def test_restore_writes_the_files_by_the_rule(make_instance, tmp_path, rule_name):  # noqa: F811
    source = make_instance("source")
    source.config.update(settings(rule_name))
    Path(source.config["UPLOAD_DIR"]).rmdir()  # made at start-up by the other rule; made again
    populate(source)  # the demo's files and three uploads, under the rule
    assert_tree(source.config["UPLOAD_DIR"], expected(rule_name))
    with source.app_context():
        archive, _manifest = backup_create(output_dir=tmp_path / "backups")
    target = make_instance("target")
    target.config.update(settings(rule_name))
    old = os.umask(0o077)
    try:
        with target.app_context():
            restore_archive(archive, echo=lambda _text: None)
    finally:
        os.umask(old)
    folder = Path(target.config["UPLOAD_DIR"])
    assert len([p for p in folder.rglob("*") if p.is_file()]) >= 8
    assert_tree(folder, expected(rule_name))


# ---- the settings checked (flask check-config) -------------------------------------------------


def test_x_accel_without_a_group_is_a_warning():
    [(level, text)] = upload_group_findings({"X_ACCEL_REDIRECT_PREFIX": PREFIX})
    assert level == "warning" and "UPLOAD_GROUP" in text and "403" in text


def test_a_group_without_x_accel_is_a_warning():
    [(level, text)] = upload_group_findings({"UPLOAD_GROUP": GROUP})
    assert level == "warning" and "不起作用" in text


def test_an_unknown_group_stops_production():
    findings = config_findings({"X_ACCEL_REDIRECT_PREFIX": PREFIX, "UPLOAD_GROUP": "no-such-group-here"})
    assert ("error", next(t for level, t in findings if "no-such-group-here" in t)) in findings


def test_a_group_this_account_is_not_in_stops_production(monkeypatch):
    monkeypatch.setattr("app.config.may_use_group", lambda gid: False)
    [(level, text)] = upload_group_findings({"X_ACCEL_REDIRECT_PREFIX": PREFIX, "UPLOAD_GROUP": GROUP})
    assert level == "error" and "usermod -aG" in text


def test_both_and_a_usable_group_is_fine():
    assert upload_group_findings({"X_ACCEL_REDIRECT_PREFIX": PREFIX, "UPLOAD_GROUP": GROUP}) == []
    assert upload_group_findings({"UPLOAD_GROUP": str(GID), "X_ACCEL_REDIRECT_PREFIX": PREFIX}) == []


def test_an_upload_folder_nginx_cannot_enter_is_a_warning(app, monkeypatch, tmp_path):
    folder = tmp_path / "by-hand"
    folder.mkdir(mode=0o700)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "X_ACCEL_REDIRECT_PREFIX", PREFIX)
    monkeypatch.setitem(app.config, "UPLOAD_GROUP", GROUP)
    os.chmod(folder, 0o700)
    assert any("chmod 2750" in text for _level, text in storage_findings(app))
    os.chown(folder, -1, GID)
    os.chmod(folder, 0o2750)
    assert storage_findings(app) == []  # group-readable is expected here, not "others can read"
    os.chmod(folder, 0o2755)
    assert any("其他用户可访问" in text for _level, text in storage_findings(app))
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert "其他用户可访问" in result.output
