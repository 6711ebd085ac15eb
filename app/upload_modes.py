"""Modes and group of what the app writes under UPLOAD_DIR.

Owner-only by default: files 0600, folders 0700, whatever the umask. When nginx sends the
attachments (``X_ACCEL_REDIRECT_PREFIX`` set) its workers (Debian: ``www-data``) must read them,
so with ``UPLOAD_GROUP`` set as well (a group the service account and nginx's workers both belong
to, deploy/README.md) files are 0640 and folders 2750 (setgid: what is made inside inherits the
group), all of that group. Never readable by other users. ``UPLOAD_GROUP`` without
``X_ACCEL_REDIRECT_PREFIX`` changes nothing: gunicorn sends the files, nobody else needs them.

Every writer under UPLOAD_DIR goes through ``make_folder`` / ``open_new_file``: attachments
(filings, complaints, notices, 手机号变更申诉; written in ``.incoming`` and moved into place),
the folder itself at start-up, ``flask restore``, the quarantine of ``flask check-files --fix``
and the demo data. The 名单导入 sheets (``imports/``) are never downloaded and stay owner-only
(``PRIVATE``). ``flask check-files`` reports files and folders whose mode or group is not this
rule's, and ``--fix`` corrects them (after turning the setting on).

Nothing here imports the rest of the app: app/config.py uses it too.
"""

import grp
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app


class UploadGroupError(ValueError):
    """UPLOAD_GROUP names no group on this machine."""


@dataclass(frozen=True)
class UploadModes:
    file: int
    folder: int
    gid: int | None = None  # None: the process's own group, left as it is

    @property
    def shared(self):
        return self.gid is not None


PRIVATE = UploadModes(file=0o600, folder=0o700)
GROUP_FILE, GROUP_FOLDER = 0o640, 0o2750


def group_id(group):
    """The gid of UPLOAD_GROUP (a name, or a number). Raises UploadGroupError."""
    text = str(group).strip()
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise UploadGroupError(f"找不到组 {text}") from None


def upload_modes(config=None):
    """The rule for this configuration (``current_app.config`` unless given)."""
    config = current_app.config if config is None else config
    group = config.get("UPLOAD_GROUP")
    if not group or not config.get("X_ACCEL_REDIRECT_PREFIX"):
        return PRIVATE
    return UploadModes(file=GROUP_FILE, folder=GROUP_FOLDER, gid=group_id(group))


def may_use_group(gid):
    """Whether this process may give its files that group (a member, or root)."""
    return os.geteuid() == 0 or gid == os.getegid() or gid in os.getgroups()


def _apply(path, mode, gid, *, descriptor=None):
    """Group first, then the mode (a chown may clear the setgid bit)."""
    stat = os.fstat(descriptor) if descriptor is not None else os.stat(path)
    if gid is not None and stat.st_gid != gid:
        if descriptor is not None:
            os.fchown(descriptor, -1, gid)
        else:
            os.chown(path, -1, gid)
    if stat.st_mode & 0o7777 != mode or gid is not None:
        if descriptor is not None:
            os.fchmod(descriptor, mode)
        else:
            os.chmod(path, mode)


def make_folder(path, modes=None):
    """Create ``path`` and any missing parents with the rule's folder mode and group (an existing
    folder is left as it is); returns the path."""
    modes = upload_modes() if modes is None else modes
    path = Path(path)
    missing = []
    level = path
    while not level.exists() and level.parent != level:
        missing.append(level)
        level = level.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another worker made it first
            continue
        _apply(folder, modes.folder, modes.gid)
    return path


def open_new_file(path, modes=None, text=False):
    """A new file (never an existing one) with the rule's mode and group; owner-only from the
    first byte, widened to the group (if at all) before anything is written."""
    modes = upload_modes() if modes is None else modes
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _apply(path, modes.file, modes.gid, descriptor=descriptor)
    except BaseException:
        os.close(descriptor)
        os.unlink(path)
        raise
    return os.fdopen(descriptor, "w" if text else "wb")


def write_new_file(path, data, modes=None):
    with open_new_file(path, modes) as out:
        out.write(data)


def mode_problem(path, modes, *, folder):
    """What is wrong with one file's or folder's mode and group under this rule, or None."""
    try:
        stat = path.lstat()
    except FileNotFoundError:  # an upload moved into place, or swept, since the folder was listed
        return None
    wanted = modes.folder if folder else modes.file
    have = stat.st_mode & 0o7777
    if modes.gid is not None and stat.st_gid != modes.gid:
        return f"属组 {_group_name(stat.st_gid)}，应为 {_group_name(modes.gid)}"
    if have != wanted:
        return f"权限 {have:04o}，应为 {wanted:04o}"
    return None


def fix_modes(path, modes, *, folder):
    try:
        _apply(path, modes.folder if folder else modes.file, modes.gid)
    except FileNotFoundError:
        pass


def _group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
