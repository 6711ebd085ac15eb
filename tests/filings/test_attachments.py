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
        folder = app.config["UPLOAD_DIR"]
        assert not os.path.exists(folder) or os.listdir(folder) == []
        assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


def test_chinese_names_are_kept_and_the_hash_computed(app):
    import hashlib

    with app.test_request_context():
        user = make_institution()
        content = b"%PDF-1.4 " + "内容".encode() * 1000
        attachment = attachment_store(FileStorage(io.BytesIO(content), filename="C:\\材料\\营业执照（副本）.pdf"), user=user)
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
