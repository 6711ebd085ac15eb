"""flask backup / flask restore: the database and the uploaded files in one verified archive.

An archive (``smehn-backup-YYYYmmdd-HHMMSS.tar.gz``, mode 0600, with a ``.sha256`` beside it) holds

- ``database.sqlite3``: a consistent copy made with SQLite's online backup API (so commits still in
  the WAL are in it), or ``database.pgdump``: ``pg_dump --format=custom`` of the snapshot in which
  the row counts were taken (``pg_export_snapshot``);
- ``files/<path>``: every file under UPLOAD_DIR except its dot folders (.incoming, .quarantine);
- ``manifest.json`` (last): when (China time), the app version, the Alembic revision, the dialect,
  the rows per table, the content version, and each member's size and sha256.

Restore reads the whole archive and checks every checksum, the manifest and the revision before it
touches anything; a damaged archive is refused with nothing changed. It then swaps the upload
folder (the new one is extracted beside it, the old one kept beside it as
``<UPLOAD_DIR>.before-restore-<time>``) and replaces the database in one transaction (SQLite: the
backup API into the live file; PostgreSQL: the tables dropped and the dump loaded by one
``psql --single-transaction``); if the database step fails the old files are put back. Last, every
cache goes: the content version moves past any value seen before (so no cached page or export of
the old data is ever served again), the Flask-Caching store is cleared, and the generated downloads
under the instance folder are removed. Stop the web, worker and scheduler services first.
"""

import gzip
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from datetime import datetime
from importlib import metadata
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app.config import sqlite_path
from app.extensions import cache, db
from app.upload_modes import PRIVATE, make_folder, open_new_file, upload_modes
from app.utils import CHINA

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES = "files/"
CHUNK = 1024 * 1024
REFUSED = "拒绝恢复，未做任何更改。"


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message (Chinese) is for the operator."""


# ---- helpers -----------------------------------------------------------------------------------


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Hashing:
    """A file object that hashes what is read through it (tarfile reads each member once)."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _upload_dir():
    return Path(current_app.config["UPLOAD_DIR"])


def _dialect():
    return db.engine.dialect.name


def _migrations_dir():
    """Flask-Migrate's folder: relative to the working directory (as ``flask db`` reads it), else
    beside the package (a checkout run from elsewhere)."""
    configured = Path(current_app.extensions["migrate"].directory)
    if configured.is_absolute():
        return configured
    candidates = [Path.cwd() / configured, Path(current_app.root_path).parent / configured]
    return next((path for path in candidates if path.is_dir()), candidates[-1])


def _script_directory():
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    return ScriptDirectory.from_config(config)


def _app_version():
    try:
        return metadata.version("smehn-core")
    except metadata.PackageNotFoundError:
        return "unknown"


def uploaded_files(folder):
    """Every file under ``folder`` to back up: relative POSIX paths, without the dot folders."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0].startswith(".") or not path.is_file() or path.is_symlink():
            continue
        found.append(relative.as_posix())
    return found


# ---- the database snapshot ---------------------------------------------------------------------


def _sqlite_snapshot(target):
    """Copy the live SQLite database to ``target`` (one step of the backup API: one read
    transaction, WAL included); returns (rows per table, revision, content version, stored names)."""
    source = sqlite3.connect(sqlite_path(current_app))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # a single file, whatever the live one uses
        return _sqlite_facts(copy)
    finally:
        copy.close()


def _sqlite_facts(connection):
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    tables = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    revision = version = None
    stored = []
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    if "content_version" in tables:
        row = connection.execute("SELECT version FROM content_version WHERE id = 1").fetchone()
        version = row[0] if row else None
    if "attachment" in tables:
        stored = [row[0] for row in connection.execute("SELECT stored_name FROM attachment")]
    return tables, revision, version, stored


def _pg_command_env():
    """libpq settings for pg_dump / psql from the app's URL (the password in the environment, not argv)."""
    url = db.engine.url
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username)):
        if value:
            env[key] = str(value)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if url.query.get("options"):
        env["PGOPTIONS"] = str(url.query["options"])
    env["PGDATABASE"] = url.database or ""
    return env


def _run(command, env, what):
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(
            f"找不到 {command[0]}：请安装 PostgreSQL 客户端（apt-get install postgresql-client）。"
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip()[-2000:]}")
    return result


def _pg_snapshot(target):
    """pg_dump the snapshot in which the rows are counted; same facts as _sqlite_snapshot."""
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            names = sorted(sa.inspect(connection).get_table_names())
            tables = {
                name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names
            }
            revision = version = None
            stored = []
            if "alembic_version" in tables:
                revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            if "content_version" in tables:
                version = connection.execute(sa.text("SELECT version FROM content_version WHERE id = 1")).scalar()
            if "attachment" in tables:
                stored = list(connection.execute(sa.text("SELECT stored_name FROM attachment")).scalars())
            command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
            _run([*command, f"--file={target}"], _pg_command_env(), "pg_dump 导出数据库")
    return tables, revision, version, stored


# ---- backup ------------------------------------------------------------------------------------


def backup_create(*, output_dir=None):
    """Write a backup archive into ``output_dir`` (default instance/backups); returns
    (archive path, manifest). Raises BackupError."""
    dialect = _dialect()
    if dialect not in DATABASE_MEMBERS:
        raise BackupError(f"不支持备份 {dialect} 数据库。")
    if dialect == "sqlite" and sqlite_path(current_app) is None:
        raise BackupError("内存数据库无法备份。")
    out = Path(output_dir or Path(current_app.instance_path) / "backups")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.now(CHINA)
    name = f"smehn-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    work = Path(tempfile.mkdtemp(dir=out, prefix=".backup-"))
    part = out / f".{name}.part"
    try:
        member = DATABASE_MEMBERS[dialect]
        snapshot = work / member
        take = _sqlite_snapshot if dialect == "sqlite" else _pg_snapshot
        tables, revision, version, stored = take(snapshot)
        folder = _upload_dir()
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "app_version": _app_version(),
            "alembic_revision": revision,
            "database": {"dialect": dialect, "member": member},
            "content_version": version,
            "tables": tables,
            "files": [],
        }
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            manifest["database"].update(_add(tar, snapshot, member))
            on_disk = set()
            for relative in uploaded_files(folder):
                try:
                    entry = _add(tar, folder / relative, FILES + relative)
                except FileNotFoundError:
                    continue  # deleted while the backup ran (after the snapshot)
                manifest["files"].append({"path": relative, **entry})
                on_disk.add(relative)
            manifest["missing_files"] = sorted(set(stored) - on_disk)
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
            tar.addfile(info, _Hashing(_BytesReader(data)))
        archive = out / name
        os.replace(part, archive)
        _write_private(out / f"{name}.sha256", f"{_sha256_file(archive)}  {name}\n")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return archive, manifest


class _BytesReader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


def _add(tar, path, arcname):
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        info = tarfile.TarInfo(arcname)
        info.size, info.mode, info.mtime = size, 0o600, int(os.fstat(source.fileno()).st_mtime)
        reader = _Hashing(source)
        tar.addfile(info, reader)
    return {"size": reader.size, "sha256": reader.digest.hexdigest()}


def _write_private(path, text):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)


# ---- verification ------------------------------------------------------------------------------


def _safe_member(name):
    parts = Path(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts and "\\" not in name


def _read_members(archive, extract_to=None, modes=None):
    """One pass over the archive: (sha256 and size per member, the manifest's bytes). With
    ``extract_to``: each regular member is written under it as well, with ``modes``' mode and
    group (app/upload_modes.py: the upload folder's rule)."""
    seen, manifest = {}, None
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                if not member.isfile() or not _safe_member(member.name):
                    raise BackupError(f"备份中有不应出现的条目“{member.name}”，{REFUSED}")
                if member.name in seen:
                    raise BackupError(f"备份中“{member.name}”出现了两次，{REFUSED}")
                source = tar.extractfile(member)
                digest, size = hashlib.sha256(), 0
                out = None
                if extract_to is not None:
                    target = Path(extract_to) / member.name
                    # the database copy is read by this process only
                    kept_modes = modes if member.name.startswith(FILES) else PRIVATE
                    make_folder(target.parent, kept_modes)
                    out = open_new_file(target, kept_modes)
                kept = bytearray() if member.name == MANIFEST else None
                try:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        if out is not None:
                            out.write(chunk)
                        if kept is not None:
                            kept.extend(chunk)
                finally:
                    if out is not None:
                        out.close()
                seen[member.name] = {"size": size, "sha256": digest.hexdigest()}
                if kept is not None:
                    manifest = bytes(kept)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BackupError(f"备份文件已损坏或不完整（{error}），{REFUSED}") from error
    return seen, manifest


def backup_verify(archive):
    """Read the whole archive and check it; returns the manifest. Raises BackupError (nothing changed)."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}。")
    sidecar = archive.with_name(archive.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[0] if sidecar.read_text().split() else ""
        if expected != _sha256_file(archive):
            raise BackupError(f"备份文件的校验和与 {sidecar.name} 不符（文件已损坏或被改动），{REFUSED}")
    seen, raw = _read_members(archive)
    return _check_manifest(seen, raw)


def _check_manifest(seen, raw):
    if raw is None:
        raise BackupError(f"备份中没有 {MANIFEST}（不是本系统的备份，或文件不完整），{REFUSED}")
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise BackupError(f"{MANIFEST} 无法解析，{REFUSED}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式不受支持（format={manifest.get('format')!r}），{REFUSED}")
    database = manifest.get("database") or {}
    expected = {database.get("member"): database}
    for entry in manifest.get("files") or []:
        expected[FILES + entry["path"]] = entry
    for name, entry in expected.items():
        got = seen.get(name)
        if got is None:
            raise BackupError(f"备份中缺少“{name}”，{REFUSED}")
        if got["size"] != entry.get("size") or got["sha256"] != entry.get("sha256"):
            raise BackupError(f"“{name}”的校验和与清单不符（文件已损坏或被改动），{REFUSED}")
    extra = set(seen) - set(expected) - {MANIFEST}
    if extra:
        raise BackupError(f"备份中有清单之外的文件“{sorted(extra)[0]}”，{REFUSED}")
    return manifest


def _check_compatible(manifest):
    """The dialect must match and the revision must be one of this program's migrations.
    Returns True when the restored database needs `flask db upgrade` (an older revision)."""
    dialect = manifest["database"].get("dialect")
    if dialect != _dialect():
        raise BackupError(f"备份的数据库为 {dialect}，当前为 {_dialect()}：不能跨数据库恢复，{REFUSED}")
    revision = manifest.get("alembic_revision")
    if not revision:
        raise BackupError(f"备份中没有数据库迁移版本（alembic_version），{REFUSED}")
    script = _script_directory()
    try:
        script.get_revision(revision)
    except Exception:
        raise BackupError(
            f"备份的数据库版本 {revision} 不在本程序的迁移中（备份来自更新的程序？请先升级程序），{REFUSED}"
        ) from None
    heads = script.get_heads()
    return revision not in heads


# ---- restore -----------------------------------------------------------------------------------


def restore_archive(archive, *, echo=print):
    """Verify, then replace the database and the upload folder with the archive's; clear every
    cache. Returns the manifest. Raises BackupError; on a refusal nothing has changed."""
    archive = Path(archive)
    manifest = backup_verify(archive)
    needs_upgrade = _check_compatible(manifest)
    echo(
        f"备份已校验：{manifest['created_at']}，{len(manifest['files'])} 个文件，迁移版本 {manifest['alembic_revision']}。"
    )
    folder = _upload_dir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.restore-"))
    aside = folder.with_name(f"{folder.name}.before-restore-{stamp}")
    moved_old = False
    try:
        # the files become UPLOAD_DIR: written with its rule (0600/0700, or 0640/2750 of UPLOAD_GROUP)
        seen, raw = _read_members(archive, extract_to=staging, modes=upload_modes())
        _check_manifest(seen, raw)  # what was written is what was verified
        member = staging / manifest["database"]["member"]
        if manifest["database"]["dialect"] == "sqlite":
            _check_sqlite_copy(member, manifest)
        else:
            _run(["pg_restore", "--list", str(member)], _pg_command_env(), "读取数据库备份")
        before = _current_content_version()
        new_files = staging / "files"
        make_folder(new_files, upload_modes())
        # swap the folders: two renames in the same parent, undone if the database step fails
        if folder.exists():
            os.rename(folder, aside)
            moved_old = True
        try:
            os.rename(new_files, folder)
            try:
                _replace_database(member)
            except BaseException:
                os.rename(folder, staging / "files.failed")
                raise
        except BaseException:
            if moved_old:
                os.rename(aside, folder)
                moved_old = False
            raise
    except BackupError:
        raise
    except OSError as error:
        raise BackupError(f"恢复失败（{error}），原有数据未被替换。") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if needs_upgrade:
        echo(f"备份的迁移版本 {manifest['alembic_revision']} 较旧，正在升级数据库结构……")
        upgrade(directory=str(_migrations_dir()))
    after = _current_content_version() or 0
    caches_clear(floor=max(before or 0, after, manifest.get("content_version") or 0))
    counts = _table_counts()
    differ = {
        name: (rows, counts.get(name))
        for name, rows in manifest["tables"].items()
        if counts.get(name) != rows and name != "alembic_version"
    }
    if differ and not needs_upgrade:
        echo(f"警告：恢复后以下表的行数与备份清单不符：{differ}")
    if moved_old:
        echo(f"原附件目录已保留在 {aside}，确认无误后可删除。")
    return manifest


def _check_sqlite_copy(path, manifest):
    connection = sqlite3.connect(path)
    try:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"备份中的数据库未通过完整性检查，{REFUSED}")
        tables, revision, _version, _stored = _sqlite_facts(connection)
    finally:
        connection.close()
    if tables != manifest["tables"] or revision != manifest["alembic_revision"]:
        raise BackupError(f"备份中的数据库与清单记录的行数不符，{REFUSED}")


def _replace_database(member):
    db.session.remove()
    db.engine.dispose()
    if _dialect() == "sqlite":
        source = sqlite3.connect(member)
        live = sqlite3.connect(sqlite_path(current_app), timeout=30)
        try:
            source.backup(live)  # one step: the live file changes in one write transaction
        except sqlite3.Error as error:
            raise BackupError(f"写入数据库失败（{error}），原有数据未被替换。") from error
        finally:
            live.close()
            source.close()
        return
    env = _pg_command_env()
    script = Path(member).with_suffix(".sql")
    _run(["pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(member)], env, "读取数据库备份")
    with db.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
    db.engine.dispose()
    drop = Path(member).with_suffix(".drop.sql")
    drop.write_text("".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in names))
    command = ["psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    _run([*command, "-f", str(drop), "-f", str(script)], env, "恢复 PostgreSQL 数据库（已整体回滚，原有数据未被替换）")


def _current_content_version():
    try:
        with db.engine.connect() as connection:
            return connection.execute(sa.text("SELECT version FROM content_version WHERE id = 1")).scalar()
    except sa.exc.DBAPIError:
        return None


def _table_counts():
    with db.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def caches_clear(*, floor=0):
    """After the data changed behind the app's back: whatever keys the page cache (a content
    version counter, or per-topic tokens) moves to values never seen before, so no cached page or
    export of the old data is reachable in any worker; the Flask-Caching store (SimpleCache, Redis)
    is emptied; the generated downloads under the instance folder are removed. ``floor``: the
    highest content version seen before (the counter goes past it)."""
    with db.engine.begin() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        if "content_version" in tables:
            version = max(floor, connection.execute(sa.text(CURRENT_VERSION)).scalar() or 0) + 1
            if not connection.execute(sa.text(SET_VERSION), {"v": version}).rowcount:
                connection.execute(sa.text("INSERT INTO content_version (id, version) VALUES (1, :v)"), {"v": version})
        if "cache_topic" in tables:
            for name in connection.execute(sa.text("SELECT name FROM cache_topic")).scalars().all():
                connection.execute(
                    sa.text("UPDATE cache_topic SET token = :token WHERE name = :name"),
                    {"token": secrets.token_hex(16), "name": name},
                )
    cache.clear()
    instance = Path(current_app.instance_path)
    legacy_downloads = instance / "cache" / "downloads"  # the export cache of revisions before 0008
    for folder in (legacy_downloads, Path(current_app.config.get("JOBS_DIR") or instance / "jobs")):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file():
                    path.unlink(missing_ok=True)


CURRENT_VERSION = "SELECT version FROM content_version WHERE id = 1"
SET_VERSION = "UPDATE content_version SET version = :v WHERE id = 1"


# ---- commands ----------------------------------------------------------------------------------


@click.command("backup")
@click.option(
    "--output", "output_dir", type=click.Path(file_okay=False), default=None, help="备份目录（默认 instance/backups）"
)
@with_appcontext
def backup_command(output_dir):
    """Write one archive of the database and the uploaded files (cron-safe)."""
    try:
        archive, manifest = backup_create(output_dir=output_dir)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest["tables"].values())
    click.echo(f"备份完成：{archive}（{len(manifest['tables'])} 张表 {rows} 行，{len(manifest['files'])} 个文件）")
    for name in manifest["missing_files"]:
        click.echo(f"警告：附件 {name} 的文件已缺失，未能备份（运行 flask check-files 查看）")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="不再询问确认")
@with_appcontext
def restore_command(archive, yes):
    """Replace the database and the uploaded files with a backup's (verified first). Stop the web,
    worker and scheduler services before running it."""
    try:
        manifest = backup_verify(archive)
        _check_compatible(manifest)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(
            f"将用 {manifest['created_at']} 的备份替换当前数据库和全部附件（请先停止网站与后台任务服务），继续吗？",
            abort=True,
        )
    try:
        restore_archive(archive, echo=click.echo)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo("恢复完成，缓存已清空。请重新启动网站与后台任务服务。")
