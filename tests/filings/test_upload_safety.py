"""Uploads are written aside and land only with their row's commit; a full disk and a missing file
get a clear message (app/filings/attachments.py)."""

import errno
import io
import logging
import os
import time

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.filings import attachments
from app.filings.attachments import INCOMING, DiskFull, attachment_path, attachment_store, sweep_incoming
from app.filings.models import Attachment
from tests.applications.test_flow import fill_steps, new_draft, upload
from tests.factories import make_institution, make_province_admin, make_round
from tests.helpers import login, page, text_of
from tests.uploads import stored_files

PDF = b"%PDF-1.4\n%aside\n"


def pdf(name, content=PDF):
    return FileStorage(io.BytesIO(content), filename=name)


def test_the_file_waits_in_incoming_until_the_commit(app, app_ctx):
    attachment = attachment_store(pdf("材料.pdf"), user=make_institution())
    assert stored_files(app) == [f"{INCOMING}/{attachment.stored_name}"]
    assert not attachment_path(attachment).exists()
    db.session.commit()
    assert stored_files(app) == [attachment.stored_name]
    assert attachment_path(attachment).read_bytes() == PDF


@pytest.mark.parametrize("end", ["rollback", "remove", "close"])
def test_a_transaction_that_does_not_commit_takes_its_file_away(app, app_ctx, end):
    user = make_institution()
    attachment_store(pdf("材料.pdf"), user=user)
    getattr(db.session, end)()
    assert stored_files(app) == []
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_a_rolled_back_savepoint_takes_only_its_own_file(app, app_ctx):
    user = make_institution()
    kept = attachment_store(pdf("留下.pdf"), user=user)
    savepoint = db.session.begin_nested()
    attachment_store(pdf("撤销.pdf", PDF + b"2"), user=user)
    savepoint.rollback()
    with db.session.begin_nested():  # released: its file goes with the outer commit
        inner = attachment_store(pdf("内层.pdf", PDF + b"3"), user=user)
    db.session.commit()
    assert stored_files(app) == sorted([kept.stored_name, inner.stored_name])


class FullDisk(io.RawIOBase):
    """A file on a disk that fills after ``room`` bytes."""

    def __init__(self, path, room):
        self.out = open(path, "wb")
        self.room = room

    def writable(self):
        return True

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.out.write(data)

    def close(self):
        self.out.close()
        super().close()


def fill_disk_after(monkeypatch, files_that_fit):
    """The first ``files_that_fit`` files are written; every later one hits a full disk."""
    opened = []

    def open_incoming(path, modes):
        opened.append(path)
        return FullDisk(path, room=10**9 if len(opened) <= files_that_fit else 4)

    monkeypatch.setattr(attachments, "_open_incoming", open_incoming)


def test_a_full_disk_says_so_and_leaves_nothing(app, app_ctx, monkeypatch, caplog):
    fill_disk_after(monkeypatch, 0)
    with caplog.at_level(logging.ERROR, logger="app.filings.attachments"), pytest.raises(DiskFull) as raised:
        attachment_store(pdf("大材料.pdf", PDF * 100), user=None)
    assert str(raised.value) == "服务器存储空间不足，请联系管理员。“大材料.pdf”未保存。"
    assert "disk is full" in caplog.text
    db.session.rollback()
    assert stored_files(app) == []


def draft_with_steps_filled(app, client):
    """An institution signed in, with a 申报 draft at its attachments step; returns the draft's id."""
    with app.app_context():
        make_round("application", year=2026)
        username = make_institution(city_code="430100", county_code="430102").username
    login(client, username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    return filing_id


def test_a_multi_file_upload_that_fills_the_disk_says_which_files_were_saved(client, app, monkeypatch):
    filing_id = draft_with_steps_filled(app, client)
    fill_disk_after(monkeypatch, 1)
    response = client.post(
        f"/applications/{filing_id}/attachments",
        data={"files": [(io.BytesIO(PDF + bytes([n])), f"{name}.pdf") for n, name in enumerate("一二三")]},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    soup = page(response, fragment=True)
    flashes = [text_of(p) for p in soup.select("p.flash")]
    assert flashes == [
        "已上传：一.pdf",
        "服务器存储空间不足，请联系管理员。“二.pdf”未保存。",
        "服务器存储空间不足，请联系管理员。“三.pdf”未保存。",
    ]
    with app.app_context():
        [saved] = db.session.scalars(sa.select(Attachment)).all()
        assert saved.original_name == "一.pdf"
        assert stored_files(app) == [saved.stored_name]


def test_a_database_that_runs_out_of_disk_at_the_commit_says_which_files_were_saved(client, app, monkeypatch):
    filing_id = draft_with_steps_filled(app, client)
    real_commit, commits = db.session.commit, []

    def commit():
        commits.append(1)
        if len(commits) == 2:  # the second file's row: SQLite's own words for a full disk
            raise sa.exc.OperationalError("INSERT INTO attachment ...", {}, Exception("database or disk is full"))
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit)
    response = client.post(
        f"/applications/{filing_id}/attachments",
        data={"files": [(io.BytesIO(PDF + bytes([n])), f"{name}.pdf") for n, name in enumerate("一二三")]},
        content_type="multipart/form-data",
        headers={"HX-Request": "true"},
    )
    soup = page(response, fragment=True)
    assert [text_of(p) for p in soup.select("p.flash")] == [
        "已上传：一.pdf",
        "服务器存储空间不足，请联系管理员。“二.pdf”未保存。",
        "服务器存储空间不足，请联系管理员。“三.pdf”未保存。",
    ]
    monkeypatch.setattr(db.session, "commit", real_commit)
    with app.app_context():
        [saved] = db.session.scalars(sa.select(Attachment)).all()
        assert saved.original_name == "一.pdf" and stored_files(app) == [saved.stored_name]


def test_a_full_disk_under_a_notice_saves_nothing(client, app, app_ctx, monkeypatch):
    login(client, make_province_admin())
    fill_disk_after(monkeypatch, 1)
    data = {
        "title": "关于报送材料的通知",
        "category": "通知公告",
        "body": "正文",
        "publish": "now",
        "publish_at": "",
        "files": [(io.BytesIO(PDF), "甲.pdf"), (io.BytesIO(PDF + b"2"), "乙.pdf")],
    }
    soup = page(client.post("/notices/manage/new", data=data, content_type="multipart/form-data"))
    message = text_of(soup.select_one("#field-files"))
    assert "服务器存储空间不足，请联系管理员" in message and "“乙.pdf”未保存" in message and "通知未保存" in message
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert stored_files(app) == []


def test_a_row_whose_file_is_missing_gives_a_clear_404(client, app, monkeypatch, caplog):
    filing_id = draft_with_steps_filled(app, client)
    upload(client, filing_id, ("营业执照.pdf", PDF))
    with app.app_context():
        attachment = db.session.scalars(sa.select(Attachment)).one()
        attachment_path(attachment).unlink()
    with caplog.at_level(logging.ERROR, logger="app.filings.attachments"):
        response = client.get(f"/applications/{filing_id}/attachments/{attachment.id}")
    assert response.status_code == 404
    assert "附件文件缺失，请联系管理员" in response.get_data(as_text=True)
    assert "has no file on disk" in caplog.text and attachment.stored_name in caplog.text


def test_the_sweep_removes_old_leftovers_only(app, app_ctx):
    folder = os.path.join(app.config["UPLOAD_DIR"], INCOMING)
    os.makedirs(folder)
    old, young = os.path.join(folder, "old.pdf"), os.path.join(folder, "young.pdf")
    for path in (old, young):
        with open(path, "wb") as out:
            out.write(b"partial")
    a_day_ago = time.time() - 25 * 3600
    os.utime(old, (a_day_ago, a_day_ago))
    # a committed row whose move into place failed keeps its file, however old
    committed = Attachment(original_name="已提交.pdf", stored_name="kept.pdf", size=7, sha256="0" * 64)
    db.session.add(committed)
    db.session.commit()
    kept = os.path.join(folder, "kept.pdf")
    with open(kept, "wb") as out:
        out.write(b"partial")
    os.utime(kept, (a_day_ago, a_day_ago))
    assert [p.name for p in sweep_incoming(older_than_hours=24)] == ["old.pdf"]
    assert sorted(os.listdir(folder)) == ["kept.pdf", "young.pdf"]
