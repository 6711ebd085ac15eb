"""flask check-files / flask sweep-files: the ``attachment`` rows against the files in UPLOAD_DIR.

Every stored file belongs to one ``attachment`` row (filings, notices, complaints and 手机号变更申诉
all store through app/filings/attachments.py; ``stored_name`` is the file's name in UPLOAD_DIR).
``check_files`` reports rows whose file is missing and files no row refers to; with ``fix`` the
orphans are moved to ``UPLOAD_DIR/.quarantine/<time>/`` (never deleted), a committed row whose
file was left in ``.incoming`` gets it put in place, and old uncommitted leftovers in
``.incoming`` are swept. ``imports/`` (the 名单导入 sheets, removed by the importer itself) and
the dot folders are not attachments and are left alone.

Modes (app/upload_modes.py): a file or folder of attachments (``.incoming`` and ``.quarantine``
included) whose mode or group is not the rule's (0600/0700, or 0640/2750 of UPLOAD_GROUP under
X-Accel-Redirect) is reported, and ``--fix`` corrects it: after UPLOAD_GROUP is turned on, the
files written before get the group nginx reads them with.

``SWEEP_SCHEDULE`` (清理上传残留, a core schedule listed by create_app) sweeps ``.incoming`` every day,
so a worker killed mid-upload leaves nothing behind for longer than a day without anyone
running ``flask sweep-files``.
"""

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.filings.attachments import INCOMING, sweep_incoming
from app.filings.models import Attachment
from app.jobs import ScheduleKind
from app.upload_modes import fix_modes, make_folder, mode_problem, upload_modes
from app.utils import CHINA

QUARANTINE = ".quarantine"
NOT_ATTACHMENTS = ("imports",)  # folders under UPLOAD_DIR that hold something else


@dataclass
class FileCheck:
    missing: list = field(default_factory=list)  # (id, stored_name, original_name) without a file
    recoverable: list = field(default_factory=list)  # the same, with the file still in .incoming
    orphans: list = field(default_factory=list)  # paths (relative) no row refers to
    quarantined: Path | None = None
    placed: list = field(default_factory=list)
    swept: list = field(default_factory=list)
    stale_incoming: list = field(default_factory=list)  # what a sweep would remove
    wrong_modes: list = field(default_factory=list)  # (relative path, what is wrong), the folder itself as "."

    @property
    def clean(self):
        return not (self.missing or self.recoverable or self.orphans or self.wrong_modes)


def check_files(*, fix=False, sweep_hours=None):
    """Reconcile the attachment rows with UPLOAD_DIR; see the module docstring. Returns a FileCheck."""
    folder = Path(current_app.config["UPLOAD_DIR"])
    hours = current_app.config["INCOMING_SWEEP_HOURS"] if sweep_hours is None else sweep_hours
    rows = db.session.execute(sa.select(Attachment.id, Attachment.stored_name, Attachment.original_name)).all()
    db.session.rollback()  # no transaction held while the disk is walked
    known = {row.stored_name for row in rows}
    result = FileCheck()
    modes = upload_modes()
    for row in rows:
        if not (folder / row.stored_name).is_file():
            target = result.recoverable if (folder / INCOMING / row.stored_name).is_file() else result.missing
            target.append((row.id, row.stored_name, row.original_name))
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            first = relative.parts[0]
            if first.startswith(".") or first in NOT_ATTACHMENTS or not path.is_file():
                continue
            if relative.as_posix() not in known:
                result.orphans.append(relative.as_posix())
        for path in [folder, *sorted(folder.rglob("*"))]:
            relative = path.relative_to(folder)
            if relative.parts and relative.parts[0] in NOT_ATTACHMENTS or path.is_symlink():
                continue
            problem = mode_problem(path, modes, folder=path.is_dir())
            if problem:
                result.wrong_modes.append((relative.as_posix(), problem))
    if not fix:
        incoming = folder / INCOMING
        if incoming.is_dir():
            limit = datetime.now().timestamp() - hours * 3600
            result.stale_incoming = sorted(
                p.name for p in incoming.iterdir() if p.is_file() and p.stat().st_mtime < limit and p.name not in known
            )
        return result
    for relative, _problem in result.wrong_modes:
        path = folder / relative
        fix_modes(path, modes, folder=path.is_dir())
    if result.orphans:
        result.quarantined = folder / QUARANTINE / datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
        for relative in result.orphans:
            target = result.quarantined / relative
            make_folder(target.parent, modes)
            os.replace(folder / relative, target)
    for entry in result.recoverable:
        os.replace(folder / INCOMING / entry[1], folder / entry[1])
        result.placed.append(entry)
    result.swept = [path.name for path in sweep_incoming(older_than_hours=hours)]
    return result


def sweep_schedule_run(*, params, today):
    """The daily 清理上传残留 schedule: what ``flask sweep-files`` does, with INCOMING_SWEEP_HOURS."""
    removed = sweep_incoming(older_than_hours=current_app.config["INCOMING_SWEEP_HOURS"])
    return f"清理上传残留 {len(removed)} 个" if removed else "没有上传残留"


SWEEP_SCHEDULE = ScheduleKind(
    "files.sweep",
    "清理上传残留",
    "删除上传中断（如处理进程被终止）后留在附件目录 .incoming 中、超过 INCOMING_SWEEP_HOURS 小时（默认 24）"
    "且没有附件记录的残留文件。",
    sweep_schedule_run,
    default_hour=3,
)


@click.command("check-files")
@click.option(
    "--fix",
    is_flag=True,
    help="把无主文件移入 UPLOAD_DIR/.quarantine/（不删除），清理 .incoming 中的残留，并修正权限不符的文件和目录",
)
@with_appcontext
def check_files_command(fix):
    """Compare the attachment rows with the files in UPLOAD_DIR (exit status 1 when something is wrong)."""
    result = check_files(fix=fix)
    for attachment_id, stored, original in result.missing:
        click.echo(f"文件缺失：附件 #{attachment_id}“{original}”（{stored}），请从备份恢复该文件")
    for attachment_id, stored, original in result.recoverable:
        done = "已放回" if fix else "可用 --fix 放回"
        click.echo(f"文件在 {INCOMING} 中：附件 #{attachment_id}“{original}”（{stored}），{done}")
    for relative in result.orphans:
        click.echo(f"无主文件：{relative}" + (f" -> {result.quarantined / relative}" if fix else ""))
    for name in result.stale_incoming:
        click.echo(f"上传残留：{INCOMING}/{name}（可用 --fix 或 flask sweep-files 清理）")
    for name in result.swept:
        click.echo(f"已清理上传残留：{INCOMING}/{name}")
    for relative, problem in result.wrong_modes:
        click.echo(f"权限不符：{relative}（{problem}）" + ("，已修正" if fix else "，可用 --fix 修正"))
    click.echo(
        f"检查完毕：缺失 {len(result.missing)} 个，待放回 {len(result.recoverable) - len(result.placed)} 个，"
        f"无主 {len(result.orphans)} 个"
        + ("（已移入隔离目录）" if fix and result.orphans else "")
        + f"，权限不符 {len(result.wrong_modes)} 个"
        + ("（已修正）" if fix and result.wrong_modes else "")
        + "。"
    )
    if result.missing or (not fix and (result.orphans or result.recoverable or result.wrong_modes)):
        raise SystemExit(1)


@click.command("sweep-files")
@click.option("--hours", type=float, default=None, help="清理早于多少小时的残留（默认 INCOMING_SWEEP_HOURS，24）")
@with_appcontext
def sweep_files_command(hours):
    """Remove uploads left half-written in UPLOAD_DIR/.incoming (cron-safe)."""
    hours = current_app.config["INCOMING_SWEEP_HOURS"] if hours is None else hours
    removed = sweep_incoming(older_than_hours=hours)
    for path in removed:
        click.echo(f"已清理：{INCOMING}/{path.name}")
    click.echo(f"已清理上传残留 {len(removed)} 个。")
