"""flask backup / flask restore (app/backup.py): a round trip between two instances, on SQLite and
on PostgreSQL, and a damaged archive refused with nothing replaced."""

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from werkzeug.datastructures import FileStorage

from app import create_app
from app.backup import BackupError, _script_directory, backup_create, restore_archive
from app.blueprints.portal.models import Notice
from app.demo import seed_demo_data
from app.extensions import cache, db
from app.filings.attachments import attachment_store
from tests.uploads import stored_files

PG_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def _pg_admin():
    url = sa.engine.make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return url, sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def _postgres_ready():
    if shutil.which("pg_dump") is None or shutil.which("psql") is None:
        return False
    try:
        _url, admin = _pg_admin()
        with admin.connect():
            pass
        admin.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request):
    if request.param == "postgresql" and not os.environ.get("CI") and not _postgres_ready():
        pytest.skip("PostgreSQL 或 pg_dump 不可用（127.0.0.1:5432）")
    return request.param


@pytest.fixture
def make_instance(tmp_path, dialect):
    """Build an empty, migrated instance of its own (database, upload folder, instance folder)."""
    made, databases = [], []

    def make(name):
        if dialect == "sqlite":
            url = f"sqlite:///{tmp_path / name / 'app.db'}"
            (tmp_path / name).mkdir()
        else:
            base, admin = _pg_admin()
            database = f"backup_{name}_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
            admin.dispose()
            databases.append(database)
            url = base.set(database=database).render_as_string(hide_password=False)
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "backup-test",
                "SQLALCHEMY_DATABASE_URI": url,
                "UPLOAD_DIR": str(tmp_path / name / "uploads"),
                "JOBS_DIR": str(tmp_path / name / "jobs"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "CACHE_TYPE": "SimpleCache",
            }
        )
        app.instance_path = str(tmp_path / name / "instance")
        with app.app_context():
            upgrade(directory=MIGRATIONS)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if databases:
        _url, admin = _pg_admin()
        with admin.connect() as connection:
            for database in databases:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


FILES = {
    "认定通知.pdf": b"%PDF-1.4\n" + "通知正文".encode() * 500,
    "人员名单.xlsx": b"PK\x03\x04" + os.urandom(3000),
    "说明.txt": "机构情况说明\n".encode() * 50,
}
DEMO_FILES = 5  # the demo's submitted applications carry one file each (app/demo_province.py)


def populate(app):
    """Demo data plus a notice with three uploaded files."""
    with app.test_request_context():
        seed_demo_data()
        notice = db.session.scalars(sa.select(Notice).order_by(Notice.id)).first()
        for name, content in FILES.items():
            attachment_store(FileStorage(io.BytesIO(content), filename=name), user=None).notice_id = notice.id
        db.session.commit()


def rows_per_table(app):
    with app.app_context():
        with db.engine.connect() as connection:
            names = sorted(sa.inspect(connection).get_table_names())
            return {n: connection.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def file_hashes(app):
    folder = Path(app.config["UPLOAD_DIR"])
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in stored_files(app)}


def cache_keys(app):
    """What keys the page cache: the content version counter and/or the topics' tokens."""
    with app.app_context(), db.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        keys = {}
        if "content_version" in tables:
            keys["version"] = connection.execute(sa.text("SELECT version FROM content_version WHERE id = 1")).scalar()
        if "cache_topic" in tables:
            keys["tokens"] = set(connection.execute(sa.text("SELECT token FROM cache_topic")).scalars())
        return keys


def assert_never_seen(after, *before):
    """The page cache's keys after a restore were never used before it (in the target or the source)."""
    assert after
    if "version" in after:
        assert after["version"] > max(keys.get("version") or 0 for keys in before)
    if "tokens" in after:
        assert not after["tokens"] & set().union(*(keys.get("tokens", set()) for keys in before))


def test_round_trip_into_an_empty_instance(make_instance, tmp_path):
    source = make_instance("source")
    populate(source)
    with source.app_context():
        archive, manifest = backup_create(output_dir=tmp_path / "backups")
    assert archive.name.startswith("smehn-backup-") and archive.name.endswith(".tar.gz")
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert (archive.parent / f"{archive.name}.sha256").read_text().split()[0] == hashlib.sha256(
        archive.read_bytes()
    ).hexdigest()
    assert manifest["created_at"].endswith("+08:00") and manifest["alembic_revision"]
    assert manifest["tables"]["notice"] >= 1 and manifest["tables"]["attachment"] == 3 + DEMO_FILES
    assert sorted(entry["path"] for entry in manifest["files"]) == sorted(file_hashes(source))
    assert manifest["missing_files"] == []

    target = make_instance("target")
    with target.app_context():
        cache.set("page:stale", "old page")
        downloads = Path(target.config["JOBS_DIR"])  # an export job's file of the old data
        downloads.mkdir(parents=True)
        (downloads / "999-stale.xlsx").write_bytes(b"stale export")
    target_keys, source_keys = cache_keys(target), cache_keys(source)
    empty_rows = rows_per_table(target)
    with target.app_context():
        restore_archive(archive, echo=lambda _text: None)
        assert cache.get("page:stale") is None
    assert list(downloads.iterdir()) == []
    assert rows_per_table(target) == rows_per_table(source) != empty_rows
    assert file_hashes(target) == file_hashes(source) and len(file_hashes(target)) == 3 + DEMO_FILES
    # the page cache's keys never go back: past both the target's old values and the backup's
    assert_never_seen(cache_keys(target), target_keys, source_keys, {"version": manifest["content_version"]})
    # the restored instance serves the restored files
    with target.app_context():
        [first] = db.session.scalars(sa.select(Notice.id).where(Notice.attachments.any())).all()
    response = target.test_client().get(f"/notices/{first}")
    assert response.status_code == 200 and "认定通知.pdf" in response.get_data(as_text=True)


def _archive_of(make_instance, tmp_path):
    source = make_instance("source")
    populate(source)
    with source.app_context():
        archive, _manifest = backup_create(output_dir=tmp_path / "backups")
    return archive


def _rewrite(archive, change):
    """Rebuild the archive with ``change(name, data) -> data`` applied to each member (a valid
    gzip and tar, so only the checksums can tell); the .sha256 beside it is removed."""
    members = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            members.append((member, tar.extractfile(member).read()))
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            data = change(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    archive.with_name(archive.name + ".sha256").unlink()


def _assert_untouched(target, rows, files):
    assert rows_per_table(target) == rows and file_hashes(target) == files
    parent = Path(target.config["UPLOAD_DIR"]).parent
    assert not [p.name for p in parent.iterdir() if "restore" in p.name]  # no staging or aside folder left


DAMAGES = [
    ("truncated", "已损坏或不完整"),
    ("sidecar", "校验和与 "),
    ("file", "校验和与清单不符"),
    ("database", "校验和与清单不符"),
    ("manifest_revision", "不在本程序的迁移中"),
    ("extra", "清单之外"),
]


# The checks do not depend on the database: every case on SQLite, two on PostgreSQL.
@pytest.mark.parametrize(
    "dialect, damage, message",
    [("sqlite", *case) for case in DAMAGES] + [("postgresql", *case) for case in DAMAGES[::2][:2]],
    indirect=["dialect"],
)
def test_a_damaged_archive_is_refused_and_nothing_is_replaced(make_instance, tmp_path, dialect, damage, message):
    archive = _archive_of(make_instance, tmp_path)
    if damage == "truncated":
        data = archive.read_bytes()
        archive.write_bytes(data[: len(data) * 2 // 3])
        archive.with_name(archive.name + ".sha256").unlink()
    elif damage == "sidecar":
        data = bytearray(archive.read_bytes())
        with gzip.open(io.BytesIO(bytes(data))) as whole:
            whole.read()  # still a readable archive before the change
        data[len(data) // 2] ^= 0x01
        archive.write_bytes(bytes(data))
    elif damage == "file":
        _rewrite(archive, lambda name, data: data.replace("通知正文".encode(), "通知改动".encode(), 1))
    elif damage == "database":
        _rewrite(archive, lambda name, data: data + b"\0" if name.startswith("database.") else data)
    elif damage == "manifest_revision":

        def newer(name, data):
            if name != "manifest.json":
                return data
            manifest = json.loads(data)
            manifest["alembic_revision"] = "9999"
            return json.dumps(manifest).encode()

        _rewrite(archive, newer)
    elif damage == "extra":
        _rewrite(archive, lambda name, data: data)
        with tarfile.open(archive, "r:gz") as tar:
            members = [(m, tar.extractfile(m).read()) for m in tar]
        with tarfile.open(archive, "w:gz") as tar:
            for member, data in members:
                tar.addfile(member, io.BytesIO(data))
            info = tarfile.TarInfo("files/evil.pdf")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"%PDF"))

    target = make_instance("target")
    populate(target)
    rows, files = rows_per_table(target), file_hashes(target)
    with target.app_context(), pytest.raises(BackupError) as refused:
        restore_archive(archive, echo=lambda _text: None)
    assert message in str(refused.value) and "未做任何更改" in str(refused.value)
    _assert_untouched(target, rows, files)


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_an_unsafe_member_name_is_refused(make_instance, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    target = make_instance("target")
    with target.app_context(), pytest.raises(BackupError, match="不应出现的条目"):
        restore_archive(archive, echo=lambda _text: None)
    assert not (tmp_path.parent / "etc").exists()


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_the_commands(make_instance, tmp_path):
    source = make_instance("source")
    populate(source)
    result = source.test_cli_runner().invoke(args=["backup", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "备份完成" in result.output and f"{3 + DEMO_FILES} 个文件" in result.output
    [archive] = (tmp_path / "out").glob("*.tar.gz")
    target = make_instance("target")
    refused = target.test_cli_runner().invoke(args=["restore", str(archive)], input="n\n")
    assert refused.exit_code != 0 and rows_per_table(target)["notice"] == 0
    result = target.test_cli_runner().invoke(args=["restore", "--yes", str(archive)])
    assert result.exit_code == 0, result.output
    assert "恢复完成" in result.output
    assert rows_per_table(target) == rows_per_table(source)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[:1000])
    result = target.test_cli_runner().invoke(args=["restore", "--yes", str(broken)])
    assert result.exit_code == 1 and "备份文件已损坏或不完整" in result.output


def test_a_backup_of_an_older_revision_is_restored_and_upgraded(make_instance, tmp_path):
    source = make_instance("source")
    with source.app_context():
        script = _script_directory()
        [head] = script.get_heads()
        older = script.get_revision(head).down_revision
        downgrade(directory=MIGRATIONS, revision=older)
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO notice (title, category, body, is_published, published_at, pinned, created_at, updated_at)"
                    " VALUES ('旧版本的通知', '通知公告', '正文', true, '2026-01-01', false, '2026-01-01', '2026-01-01')"
                )
            )
        archive, manifest = backup_create(output_dir=tmp_path / "backups")
    assert manifest["alembic_revision"] == older
    target = make_instance("target")
    messages = []
    with target.app_context():
        restore_archive(archive, echo=messages.append)
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
            assert connection.execute(sa.text("SELECT title FROM notice")).scalars().all() == ["旧版本的通知"]
    assert any("较旧" in text for text in messages)
