"""Streaming upload, validation, storage and download of attachments.

A file is checked by extension AND leading bytes, streamed in chunks while its sha256 is computed
(never read whole into memory) to ``UPLOAD_DIR/.incoming/`` under a random name, and moved into
``UPLOAD_DIR`` only when the transaction that adds its row commits; when that transaction ends
any other way (rollback, an error, a closed session) the incoming file is removed. A worker
killed half way leaves at most a file in ``.incoming``, which ``sweep_incoming`` (``flask
sweep-files``) removes once it is old. So an upload that fails leaves neither a file nor a row.

A full disk is told to the user ("服务器存储空间不足"); a row whose file is missing answers with
a 404 page saying so (``AttachmentFileMissing``), logged, never a 500.
"""

import errno
import hashlib
import logging
import os
import re
import secrets
import time
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app, send_file
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.extensions import db
from app.filings.models import Attachment
from app.upload_modes import make_folder, open_new_file, upload_modes

log = logging.getLogger(__name__)

INCOMING = ".incoming"  # under UPLOAD_DIR: same filesystem, so the move into place is a rename
PENDING_KEY = "attachments_incoming"  # session.info: files waiting for their row's commit
DISK_FULL = "服务器存储空间不足，请联系管理员。"
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}

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


class DiskFull(AttachmentError):
    """The server's storage is full (ENOSPC / EDQUOT): the file was not saved."""


class AttachmentFileMissing(NotFound):
    """The row exists but its file is not on disk (lost, or a restore without it): a 404 that says so."""

    title = "附件文件缺失"
    text = "附件文件缺失，请联系管理员。"


def is_disk_full(error):
    """Whether ``error`` (an OSError, or a database error wrapping one) means the disk is full."""
    if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
        return True
    text = str(getattr(error, "orig", None) or "")
    # SQLite: "database or disk is full"; PostgreSQL: SQLSTATE 53100 "could not extend file ... No space left"
    return (
        "disk is full" in text
        or "No space left" in text
        or getattr(getattr(error, "orig", None), "sqlstate", None) == "53100"
    )


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
    """Validate and stream one uploaded file aside; add its Attachment row (caller commits).

    The file lands in ``UPLOAD_DIR`` when the caller's transaction commits, and is removed when it
    does not. ``user`` may be None for a public upload (手机号变更申诉 by someone who cannot log in).

    Raises AttachmentError with a message for the user (DiskFull when the disk is full); nothing is
    left behind on failure.
    """
    original = display_name(file_storage.filename)
    if not original:
        raise AttachmentError("请选择要上传的文件。")
    extension = extension_of(original)
    if extension not in ALLOWED_EXTENSIONS:
        raise AttachmentError(f"“{original}”的格式不允许上传。{ALLOWED_NOTICE}")
    limit = current_app.config["MAX_FILE_SIZE"]
    folder = upload_folder()
    incoming = folder / INCOMING
    # owner-only (0700), or 2750 of UPLOAD_GROUP under X-Accel-Redirect, whatever the umask
    modes = upload_modes()
    make_folder(incoming, modes)
    stored_name = secrets.token_hex(16) + extension
    path = incoming / stored_name
    digest = hashlib.sha256()
    size = 0
    try:
        with _open_incoming(path, modes) as out:
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
    except OSError as error:
        path.unlink(missing_ok=True)
        if is_disk_full(error):
            log.error("upload refused, the disk is full: %s (%s)", original, error)
            raise DiskFull(f"{DISK_FULL}“{original}”未保存。") from error
        raise
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:
        attachment = Attachment(
            original_name=original,
            stored_name=stored_name,
            size=size,
            sha256=digest.hexdigest(),
            uploaded_by_id=user.id if user is not None else None,
        )
        db.session.add(attachment)
        db.session.flush()
        _stage(db.session(), path, folder / stored_name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def _open_incoming(path, modes):
    """A new file, 0600 (or 0640 of UPLOAD_GROUP) before the first byte; the move into place keeps
    it (tests replace this to fill the disk)."""
    return open_new_file(path, modes)


def upload_folder():
    return Path(current_app.config["UPLOAD_DIR"])


# ---- into place on commit, away otherwise ------------------------------------------------------
#
# Each incoming file is noted with the session transaction it was written in (a savepoint's, when
# one is open). The root transaction's commit moves every noted file into place; a savepoint's
# release hands its files to the enclosing transaction; a transaction that ends without
# committing (rollback, close) takes its files away. (``after_commit`` fires before
# ``after_transaction_end`` for the same transaction.)


def _stage(session, temp, final):
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_KEY, []).append([transaction, temp, final])


def _within(transaction, ancestor):
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _place_after_commit(session):
    pending = session.info.get(PENDING_KEY)
    if not pending:
        return
    committed = session.get_nested_transaction() or session.get_transaction()
    if committed is not None and committed.nested:
        for entry in pending:  # a savepoint released: its files now wait for the enclosing commit
            if _within(entry[0], committed):
                entry[0] = committed.parent
        return
    for _transaction, temp, final in session.info.pop(PENDING_KEY):
        try:
            os.replace(temp, final)
        except OSError:
            # The row is committed; the file stays in .incoming, where check-files finds it (and
            # --fix puts it in place) and the sweep leaves it alone.
            log.exception("an uploaded file could not be moved into place: %s -> %s", temp, final)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted(session, transaction):
    pending = session.info.get(PENDING_KEY)
    if not pending:
        return
    if transaction.parent is None:
        gone, kept = pending, []
    elif transaction.nested:
        gone = [entry for entry in pending if _within(entry[0], transaction)]
        kept = [entry for entry in pending if not _within(entry[0], transaction)]
    else:
        return
    for _transaction, temp, _final in gone:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("an uncommitted upload could not be removed: %s", temp)
    if kept:
        session.info[PENDING_KEY] = kept
    else:
        session.info.pop(PENDING_KEY, None)


def sweep_incoming(*, older_than_hours=24, now=None):
    """Remove files left in UPLOAD_DIR/.incoming by a killed worker, once older than the given
    hours (an upload under way is younger). A file whose row has committed (its move into place
    failed) is kept: check-files reports it and --fix puts it in place. Returns the removed paths."""
    folder = upload_folder() / INCOMING
    if not folder.is_dir():
        return []
    limit = (now if now is not None else time.time()) - older_than_hours * 3600
    old = [path for path in folder.iterdir() if path.is_file() and path.stat().st_mtime < limit]
    if not old:
        return []
    known = set(
        db.session.scalars(
            sa.select(Attachment.stored_name).where(Attachment.stored_name.in_([path.name for path in old]))
        )
    )
    removed = []
    for path in old:
        if path.name in known:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def attachment_path(attachment):
    return upload_folder() / attachment.stored_name


def attachment_remove_file(attachment):
    """Delete the file on disk; call after the row's deletion has been committed."""
    attachment_path(attachment).unlink(missing_ok=True)


def attachment_response(attachment):
    """Send the file with its original (Chinese) name; send_file writes the RFC 5987 header.

    With ``X_ACCEL_REDIRECT_PREFIX`` set (nginx in front), the body is empty and
    ``X-Accel-Redirect`` names the file under that internal location, so nginx streams it and the
    worker does not; the headers are the same. Call it only after the access checks.

    The name is cleaned again, so a row stored before names were cleaned (a CR/LF in it) still
    downloads. A row whose file is missing raises AttachmentFileMissing (a 404 page saying so)."""
    name = display_name(attachment.original_name) or "download" + extension_of(attachment.stored_name)
    path = attachment_path(attachment)
    if not path.is_file():
        log.error("attachment %s (%s) has no file on disk: %s; run flask check-files", attachment.id, name, path)
        raise AttachmentFileMissing
    prefix = current_app.config.get("X_ACCEL_REDIRECT_PREFIX")
    if prefix:
        response = send_file(BytesIO(b""), mimetype="application/octet-stream", as_attachment=True, download_name=name)
        relative = path.relative_to(upload_folder()).as_posix()
        response.headers["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(relative)
        response.headers.pop("Content-Length", None)  # nginx sends the file's own
        return response
    return send_file(
        path,
        mimetype="application/octet-stream",
        conditional=True,
        as_attachment=True,
        download_name=name,
    )
