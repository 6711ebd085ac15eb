"""Attachment validation and storage (app/filings/attachments.py)."""

import io
import os

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.filings.attachments import AttachmentError, attachment_store, check_leading_bytes
from app.filings.models import Attachment
from tests.factories import make_institution
from tests.uploads import stored_files


@pytest.mark.parametrize(
    "extension, head, ok",
    [
        (".pdf", b"%PDF-1.7", True),
        (".pdf", b"MZ\x90\x00", False),
        (".docx", b"PK\x03\x04", True),
        (".docx", b"%PDF-", False),
        (".doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", True),
        (".xls", b"PK\x03\x04", False),
        (".7z", b"7z\xbc\xaf\x27\x1c", True),
        (".rar", b"Rar!\x1a\x07\x00", True),
        (".zip", b"Rar!\x1a\x07", False),
        (".txt", "申报说明".encode(), True),
        (".txt", b"MZ\x90\x00", False),
        (".txt", b"abc\x00def", False),
    ],
)
def test_leading_bytes_must_match_the_extension(extension, head, ok):
    assert check_leading_bytes(extension, head) is ok


class BrokenStream(io.BytesIO):
    """Gives one chunk, then fails like a dropped connection."""

    def __init__(self):
        super().__init__(b"%PDF-" + b"x" * 100_000)
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 1:
            raise OSError("connection reset")
        return super().read(size)


def test_a_failure_mid_write_leaves_nothing(app):
    with app.test_request_context():
        user = make_institution()
        with pytest.raises(OSError):
            attachment_store(FileStorage(BrokenStream(), filename="中途失败.pdf"), user=user)
        db.session.rollback()
        assert stored_files(app) == []
        assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_chinese_names_are_kept_and_the_hash_computed(app):
    import hashlib

    with app.test_request_context():
        user = make_institution()
        content = b"%PDF-1.4 " + "内容".encode() * 1000
        attachment = attachment_store(
            FileStorage(io.BytesIO(content), filename="C:\\材料\\营业执照（副本）.pdf"), user=user
        )
        db.session.commit()
        assert attachment.original_name == "营业执照（副本）.pdf"
        assert attachment.sha256 == hashlib.sha256(content).hexdigest()
        assert attachment.size == len(content)
        assert attachment.stored_name.endswith(".pdf") and "营业" not in attachment.stored_name


def test_a_renamed_executable_is_refused(app):
    with app.test_request_context():
        user = make_institution()
        with pytest.raises(AttachmentError, match="内容与扩展名"):
            attachment_store(FileStorage(io.BytesIO(b"MZ\x90\x00" * 100), filename="报告.docx"), user=user)


def _store(name, content=b"%PDF-1.4\n"):
    user = make_institution()
    attachment = attachment_store(FileStorage(io.BytesIO(content), filename=name), user=user)
    db.session.commit()
    return attachment


def test_a_name_loses_control_characters_and_keeps_its_extension(app):
    """Issue 13 item 8: CR/LF and other control characters are not kept; a long name keeps .pdf."""
    with app.test_request_context():
        assert _store("C:\\fakepath\\营业\r\n执照\x0b\t.pdf").original_name == "营业 执照.pdf"
        assert _store("发票\u202efdp.exe.pdf").original_name == "发票 fdp.exe.pdf"
        long = _store("申" * 300 + ".pdf").original_name
        assert len(long) == 255 and long.endswith(".pdf") and long.startswith("申申")


def test_a_download_never_fails_on_its_name(app, client):
    """A row stored before names were cleaned (CR/LF in it) still downloads, under a clean name."""
    from app.filings.attachments import attachment_response

    with app.test_request_context():
        attachment = _store("说明.pdf")
        attachment.original_name = "说明\r\nSet-Cookie: x=1\x01.pdf"  # (PostgreSQL cannot hold a NUL)
        db.session.commit()
        response = attachment_response(attachment)
        header = response.headers["Content-Disposition"]
        response.close()
        assert response.status_code == 200
        assert "\r" not in header and "\n" not in header and "\x00" not in header
        assert (
            header.startswith("attachment;")
            and "filename*=UTF-8''%E8%AF%B4%E6%98%8E%20Set-Cookie%3A%20x%3D1.pdf" in header
        )
        attachment.original_name = "report\r\n.pdf"  # plain ASCII: no filename* needed
        db.session.commit()
        response = attachment_response(attachment)
        assert response.headers["Content-Disposition"] == "attachment; filename=report.pdf"
        response.close()


def test_uploaded_files_are_owner_only(app, app_ctx):
    """The upload folder 0700 and each file 0600, whatever the process umask (issue 13 item 6)."""
    import stat

    previous = os.umask(0o022)
    try:
        file = FileStorage(stream=io.BytesIO(b"%PDF-1.4 perm"), filename="权限.pdf")
        attachment = attachment_store(file, user=None)
        db.session.commit()
    finally:
        os.umask(previous)
    folder = app.config["UPLOAD_DIR"]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(folder, attachment.stored_name)).st_mode) == 0o600
