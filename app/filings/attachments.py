"""Streaming upload, validation, storage and download of attachments.

A file is checked by extension AND leading bytes, streamed to ``UPLOAD_DIR`` under a random name
in chunks while its sha256 is computed, and never read whole into memory. An upload that fails
half way leaves neither a file nor a row behind.
"""

import hashlib
import os
import re
import secrets
from pathlib import Path

from flask import current_app, send_file

from app.extensions import db
from app.filings.models import Attachment

ALLOWED_EXTENSIONS = (".zip", ".7z", ".rar", ".txt", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".pdf")
ALLOWED_NOTICE = (
    "允许上传 [.zip, .7z, .rar, .txt, .doc, .docx, .xls, .xlsx, .ppt, .pptx, .pdf] 格式的文件，大小不超过50MB!"
)
CHUNK = 64 * 1024
NAME_LIMIT = 255  # Attachment.original_name
# Control characters (CR/LF would break the download's header) and the bidirectional overrides
# that make "发票\u202efdp.exe" look like "发票exe.pdf".
NAME_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")

ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
SIGNATURES = {
    ".zip": ZIP,
    ".docx": ZIP,
    ".xlsx": ZIP,
    ".pptx": ZIP,
    ".doc": OLE,
    ".xls": OLE,
    ".ppt": OLE,
    ".pdf": (b"%PDF-",),
    ".7z": (b"7z\xbc\xaf\x27\x1c",),
    ".rar": (b"Rar!\x1a\x07",),
}


class AttachmentError(ValueError):
    """The file was refused; the message is for the user."""


def extension_of(filename):
    return os.path.splitext(filename or "")[1].lower()


def check_leading_bytes(extension, head):
    """True when the first bytes of the file match what its extension promises."""
    if extension == ".txt":
        # Plain text: no NUL bytes and no known binary signature in the first block.
        if b"\x00" in head:
            return False
        return not any(head.startswith(sig) for sigs in SIGNATURES.values() for sig in sigs) and not head.startswith(
            b"MZ"
        )
    return any(head.startswith(sig) for sig in SIGNATURES[extension])


def display_name(filename):
    """The name an upload is kept and sent back under: its last path part, without control or
    direction characters, at most NAME_LIMIT characters with the extension kept when shortened."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, extension = os.path.splitext(" ".join(NAME_UNSAFE_RE.sub(" ", name).split()))
    extension = extension[:16]  # an allowed extension is short; a long "extension" is just text
    return stem[: NAME_LIMIT - len(extension)].strip() + extension


def attachment_store(file_storage, *, user):
    """Validate and stream one uploaded file to disk; add its Attachment row (caller commits).

    ``user`` may be None for a public upload (手机号变更申诉 by someone who cannot log in).

    Raises AttachmentError with a message for the user; nothing is left behind on failure.
    """
    original = display_name(file_storage.filename)
    if not original:
        raise AttachmentError("请选择要上传的文件。")
    extension = extension_of(original)
    if extension not in ALLOWED_EXTENSIONS:
        raise AttachmentError(f"“{original}”的格式不允许上传。{ALLOWED_NOTICE}")
    limit = current_app.config["MAX_FILE_SIZE"]
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only, whatever the umask
    stored_name = secrets.token_hex(16) + extension
    path = folder / stored_name
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            head = file_storage.stream.read(CHUNK)
            if not head:
                raise AttachmentError(f"“{original}”是空文件，请重新选择。")
            if not check_leading_bytes(extension, head):
                raise AttachmentError(f"“{original}”的内容与扩展名{extension}不符，请上传真实的{extension}文件。")
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise AttachmentError(f"“{original}”超过 50MB，请压缩或拆分后再上传。")
                digest.update(chunk)
                out.write(chunk)
                chunk = file_storage.stream.read(CHUNK)
        attachment = Attachment(
            original_name=original,
            stored_name=stored_name,
            size=size,
            sha256=digest.hexdigest(),
            uploaded_by_id=user.id if user is not None else None,
        )
        db.session.add(attachment)
        db.session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_path(attachment):
    return Path(current_app.config["UPLOAD_DIR"]) / attachment.stored_name


def attachment_remove_file(attachment):
    """Delete the file on disk; call after the row's deletion has been committed."""
    attachment_path(attachment).unlink(missing_ok=True)


def attachment_response(attachment):
    """Send the file with its original (Chinese) name; send_file writes the RFC 5987 header.

    The name is cleaned again, so a row stored before names were cleaned (a CR/LF in it) still
    downloads."""
    name = display_name(attachment.original_name) or "download" + extension_of(attachment.stored_name)
    return send_file(
        attachment_path(attachment),
        mimetype="application/octet-stream",
        conditional=True,
        as_attachment=True,
        download_name=name,
    )
