"""Background jobs and schedules on Huey.

Why Huey: it is maintained, small (one dependency-free package), and it has what this system needs
built in — Redis storage for production (``RedisHuey``), SQLite storage for the embedded default
(``SqliteHuey``: a file in instance/, no extra service), an in-memory immediate mode for tests,
retries with a delay and a back-off factor, delayed tasks and periodic tasks. RQ has no SQLite
storage and no built-in periodic tasks; Dramatiq needs RabbitMQ or Redis and a separate scheduler.

``JOBS_URL`` picks the storage: ``redis://host:port/db``, ``sqlite:///path`` or ``memory://``
(immediate: a task runs as soon as it is enqueued; the tests' default).

What runs here, declared explicitly (nothing registers itself when imported):

- job kinds (``JobKind``): each module lists its kinds in ``Module(jobs=...)``; the SMS delivery
  kind is the core's (``app/__init__.py``). ``init_jobs`` makes each one a Huey task of the same
  name. A page starts one with ``job_start``: a ``Job`` row (status, progress, message, error,
  result file) in the request's transaction, enqueued only after the commit, so a rolled-back
  request starts nothing. The runner claims the row (queued → running, a compare-and-set), so a
  task delivered twice runs once; a failure puts it back to queued for Huey's retry, the last
  failure marks it failed. Files go to instance/jobs/ and are downloaded through ``jobs.download``.
- schedules (``ScheduleKind``, in ``Module(schedules=...)``): a ``Schedule`` row each (enabled,
  parameters, last run and result), edited on the 定时任务 page. A periodic Huey task checks them
  every minute; each run first inserts ``schedule_run(schedule, slot)`` under a unique constraint
  in the run's own transaction, so however many schedulers and workers there are, a slot runs once.

Processes: ``flask jobs worker`` (executes tasks; no periodic enqueueing), ``flask jobs scheduler``
(enqueues the periodic check; run one, though two do no harm). With SQLite storage and
``JOBS_EMBEDDED_WORKER`` (development), the web process starts both in threads on its first request.
"""

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.utils import utcnow

log = logging.getLogger("app.jobs")

EXTENSION_KEY = "jobs"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_LABELS = {QUEUED: "排队中", RUNNING: "进行中", DONE: "已完成", FAILED: "失败"}
ACTIVE = (QUEUED, RUNNING)
STALE_RUNNING = timedelta(minutes=15)  # a running job this quiet was lost with its worker
STALE_QUEUED = timedelta(minutes=2)  # a queued job this old was never enqueued (the queue was down)
KEEP_FILES = timedelta(days=7)
ENQUEUE_KEY = "jobs_to_enqueue"  # Session.info: the tasks to enqueue after this transaction commits
CHECK_TASK = "schedules.check"


# ---- tables ------------------------------------------------------------------------------------


class Job(db.Model):
    """One background job: what it is, whose, how far it got, and its file."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(40), default="")  # who else may see it (job_scope)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Set while the job is queued or running: the same request (kind, parameters, scope) lands on
    # the job already under way instead of starting another (a unique constraint decides races).
    active_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The form's one-time token (JobStartForm): a repeated POST of the same form finds this job,
    # finished or not.
    token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED, index=True)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.String(300), default="")
    error: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    result_file: Mapped[str | None] = mapped_column(sa.String(120))  # under instance/jobs
    result_name: Mapped[str | None] = mapped_column(sa.String(200))  # the download's name
    result_type: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the account that asked (by the mapped class's name: the core imports nothing from auth)
    requester = relationship("User", foreign_keys=[requester_id])

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def active(self):
        return self.status in ACTIVE

    @property
    def percent(self):
        if self.status == DONE:
            return 100
        return min(99, int(100 * self.done / self.total)) if self.total else 0


class Schedule(db.Model):
    """A schedule's settings and its last run (one row per declared ScheduleKind)."""

    __tablename__ = "schedule"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    last_run_at: Mapped[datetime | None]
    last_slot: Mapped[str | None] = mapped_column(sa.String(40))
    last_result: Mapped[str | None] = mapped_column(sa.String(300))
    last_ok: Mapped[bool | None]
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))


class ScheduleRun(db.Model):
    """A schedule slot claimed (inserted in the run's transaction: the unique pair decides who runs it)."""

    __tablename__ = "schedule_run"
    __table_args__ = (sa.UniqueConstraint("schedule", "slot", name="uq_schedule_run_schedule_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(sa.String(60))
    slot: Mapped[str] = mapped_column(sa.String(40))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(sa.String(300), default="")


# ---- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a job handler returns: a message for the page, and the file it wrote (if any)."""

    message: str = ""
    download_name: str | None = None
    mimetype: str | None = None


@dataclass(frozen=True)
class JobKind:
    """A kind of job: ``run(job, progress, path)`` does the work (``path``: where to write a file)
    and returns an Outcome; it must be safe to run twice. Retried ``retries`` times on an error,
    after ``retry_delay`` seconds, each delay ``backoff`` times the one before."""

    name: str
    label: str
    run: Callable
    retries: int = 2
    retry_delay: float = 10
    backoff: float = 2
    task: Callable | None = None  # a plain Huey task instead of the Job-row runner (SMS delivery)
    # Whether ``run`` writes in its transaction (a 催报, an import): on SQLite such a job holds the
    # write lock while it runs, so its progress is shown only at the end; a job that only reads
    # (an export) reads in a deferred transaction and never blocks a writer.
    writes: bool = False
    # Errors whose message is for the user (shown as is) and that a retry would not cure.
    user_errors: tuple = ()
    # The job and its file are its requester's alone (a review queue's export: what one reviewer
    # asked for), and only while the requester still has the reach it had when asking.
    private: bool = False


@dataclass(frozen=True)
class Param:
    """One parameter of a schedule, as the 定时任务 form shows it."""

    name: str
    label: str
    default: object
    kind: str = "int"  # int | days (a list of whole days, "3,1")
    minimum: int = 0
    maximum: int = 365
    hint: str = ""


@dataclass(frozen=True)
class ScheduleKind:
    """A daily schedule: from ``hour`` (China time) on, ``run(params, today)`` runs once per day
    (its slot is the date) and returns a one-line result; it does not commit (the claim of the
    slot and its work commit together)."""

    name: str
    label: str
    description: str
    run: Callable
    params: tuple = ()
    default_hour: int = 9

    def defaults(self):
        return {"hour": self.default_hour, **{p.name: p.default for p in self.params}}


@dataclass
class Registry:
    huey: object
    kinds: dict = field(default_factory=dict)  # name -> JobKind
    tasks: dict = field(default_factory=dict)  # name -> Huey task
    schedules: dict = field(default_factory=dict)  # name -> ScheduleKind


def registry(app=None):
    return (app or current_app).extensions[EXTENSION_KEY]


# ---- the queue ---------------------------------------------------------------------------------


def make_huey(url, name="smehn"):
    """A Huey instance for JOBS_URL."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path))
    if url.startswith("memory://"):
        return MemoryHuey(name, immediate=True)
    raise ValueError(f"JOBS_URL 无法识别：{url!r}（应为 redis://、sqlite:/// 或 memory://）")


def init_jobs(app, kinds, schedules):
    """Make the queue from JOBS_URL and one Huey task per job kind, plus the periodic schedule check."""
    huey = make_huey(app.config["JOBS_URL"])
    reg = Registry(huey=huey)
    for kind in kinds:
        if kind.name in reg.kinds:
            raise ValueError(f"job kind {kind.name!r} declared twice")
        reg.kinds[kind.name] = kind
        body = kind.task or _job_runner(kind)
        reg.tasks[kind.name] = huey.task(
            retries=kind.retries,
            retry_delay=kind.retry_delay,
            retry_backoff=kind.backoff,
            context=True,
            name=kind.name,
        )(_in_app(app, body, writes=kind.writes or kind.task is not None))
    for schedule in schedules:
        reg.schedules[schedule.name] = schedule
    reg.tasks[CHECK_TASK] = huey.periodic_task(crontab(minute="*"), name=CHECK_TASK)(_in_app(app, schedules_check))
    app.extensions[EXTENSION_KEY] = reg
    app.cli.add_command(jobs_cli)
    if app.config.get("JOBS_EMBEDDED_WORKER"):
        app.before_request(_start_embedded)


def forget_connections(app):
    """In a process forked from one that used the queue (gunicorn's preload): drop the storage's
    connection without closing it, so this process opens its own (a SQLite connection must not
    be used across a fork; closing it here would close the parent's too)."""
    storage = app.extensions[EXTENSION_KEY].huey.storage
    if getattr(storage, "_conn", None) is not None:
        storage._conn = None


def _in_app(app, body, writes=True):
    """Run a task body inside the app with URLs buildable (links in messages).

    The request context is only there for url_for. Its method tells the database what the task
    is (app/database.py): a POST for one that writes (SQLite: BEGIN IMMEDIATE, never a lock
    upgrade), a GET for one that only reads (a deferred transaction, blocking no writer)."""

    def run(*args, **kwargs):
        # A new app context first: its own database session, even when an immediate-mode task runs
        # inside a request (the request context alone would reuse the request's app context).
        method = "POST" if writes else "GET"
        with app.app_context(), app.test_request_context("/", method=method, base_url=app.config.get("JOBS_BASE_URL")):
            try:
                return body(*args, **kwargs)
            finally:
                db.session.remove()

    run.__name__ = getattr(body, "__name__", "task")
    return run


def enqueue(name, *args):
    """Enqueue task ``name`` once the current transaction commits (at once if none is open)."""
    if not db.session().in_transaction():
        _send(current_app._get_current_object(), [(name, args)])
        return
    db.session.info.setdefault(ENQUEUE_KEY, []).append((current_app._get_current_object(), name, args))


def enqueue_now(name, *args):
    """Enqueue task ``name`` now (from an after-commit hook: the work is already committed)."""
    _send(current_app._get_current_object(), [(name, args)])


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _enqueue_after_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy 2.1 fires this then too): wait for the real commit
    pending = session.info.pop(ENQUEUE_KEY, [])
    by_app = {}
    for app, name, args in pending:
        by_app.setdefault(app, []).append((name, args))
    for app, items in by_app.items():
        _send(app, items)


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget(session):
    if session.in_nested_transaction():
        return  # a savepoint rolled back: the enclosing transaction's jobs still stand
    session.info.pop(ENQUEUE_KEY, None)


def _send(app, items):
    tasks = registry(app).tasks
    for name, args in items:
        try:
            tasks[name](*args)
        except Exception:  # noqa: BLE001 - the queue is down: the row waits for jobs_recover
            log.exception("enqueue %s%r failed; the scheduler's recovery will enqueue it again", name, args)


# ---- jobs --------------------------------------------------------------------------------------


def job_scope(user):
    """Who besides the requester may see a job: admins of the same reach (province, or one 市州)."""
    if user is None:
        return "system"
    if user.role == "province_admin":
        return "province"
    if user.role == "city_admin":
        return f"city:{user.city_code}"
    return f"user:{user.id}"


ADMIN_ROLES = ("city_admin", "province_admin")


def job_admin(job):
    """The admin who started ``job``, as the account is now (its reach decides what the job reads);
    PermissionError once the account is gone or no longer an admin."""
    user = job.requester
    if user is None or user.role not in ADMIN_ROLES:
        raise PermissionError("发起导出的管理员帐户已不存在或已不是管理员")
    return user


def private_scope(user):
    """The scope of a private kind's job: its requester, with the reach it asked with."""
    return f"own:{user.id}:{job_scope(user)}"[:40]


def job_visible(job, user):
    if job is None:
        return False
    if job.scope.startswith("own:"):  # private: the requester, while its reach is unchanged
        return job.scope == private_scope(user)
    return job.requester_id == user.id or job.scope == job_scope(user)


def job_get(job_id, user):
    """The job if ``user`` may see it (its requester, or an admin of the same scope), else None."""
    job = db.session.get(Job, job_id)
    return job if job_visible(job, user) else None


def _key(kind, params, scope):
    text = json.dumps([kind, params, scope], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _same(key, token):
    match = [Job.active_key == key]
    if token:
        match.append(Job.token == token)
    return db.session.scalar(sa.select(Job).where(sa.or_(*match)).order_by(Job.id).limit(1))


def job_start(*, kind, params, user, title, token=None):
    """Start a job (commits) and return it. The same form posted again (``token``) returns its job,
    finished or not; the same kind, parameters and scope already queued or running is returned
    too, so a double click or a second tab lands on the same job."""
    if kind not in registry().kinds:
        raise KeyError(kind)
    scope = private_scope(user) if registry().kinds[kind].private and user is not None else job_scope(user)
    key = _key(kind, params, scope)
    token = (token or "")[:64] or None
    existing = _same(key, token)
    if existing is not None:
        db.session.commit()
        return existing
    job = Job(
        kind=kind,
        title=title[:200],
        requester_id=getattr(user, "id", None),
        scope=scope,
        params=params,
        active_key=key,
        token=token,
        status=QUEUED,
        message="排队中，请稍候",
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except sa.exc.IntegrityError:  # the same job was started a moment ago by another request
        existing = _same(key, token)
        if existing is not None:
            db.session.commit()
            return existing
        raise
    enqueue(kind, job.id)
    db.session.commit()
    return job


def job_token():
    """A one-time token for a form that starts a job: posted twice, it lands on the same job."""
    return hashlib.sha256(os.urandom(32)).hexdigest()[:32]


def jobs_recent(*, user, kind=None, limit=10):
    select = sa.select(Job).where(
        sa.or_(
            sa.and_(Job.requester_id == user.id, sa.not_(Job.scope.startswith("own:"))),
            Job.scope == job_scope(user),
            Job.scope == private_scope(user),
        )
    )
    if kind:
        select = select.where(Job.kind.in_(kind) if isinstance(kind, tuple) else Job.kind == kind)
    return db.session.scalars(select.order_by(Job.id.desc()).limit(limit)).all()


def jobs_folder(app=None):
    app = app or current_app
    folder = Path(app.config.get("JOBS_DIR") or Path(app.instance_path) / "jobs")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def job_file(job):
    """The job's finished file, or None when it has none (or it was removed)."""
    if job.status != DONE or not job.result_file:
        return None
    path = jobs_folder() / job.result_file
    return path if path.is_file() else None


class Progress:
    """``progress(done, total, message)`` from a handler: written in a transaction of its own, at
    most every half second (a progress line is bookkeeping, not part of the job's work)."""

    def __init__(self, job_id, enabled=True):
        self.job_id = job_id
        self.enabled = enabled
        self.last = 0.0

    def __call__(self, done, total=None, message=None, force=False):
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < 0.5):
            return
        self.last = now
        values = {"done": done, "updated_at": utcnow()}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message[:300]
        table = Job.__table__
        with db.engine.begin() as connection:
            connection.execute(sa.update(table).where(table.c.id == self.job_id).values(**values))


def _job_runner(kind):
    def run_job(job_id, task=None):
        """Claim the job (queued → running), run the handler, record the outcome."""
        table = Job.__table__
        with db.engine.begin() as connection:
            claimed = connection.execute(
                sa.update(table)
                .where(table.c.id == job_id, table.c.status == QUEUED)
                .values(status=RUNNING, attempts=table.c.attempts + 1, started_at=utcnow(), updated_at=utcnow())
            ).rowcount
        if not claimed:  # done, failed or running elsewhere: a repeated delivery does nothing
            return None
        job = db.session.get(Job, job_id)
        # SQLite: a writing job holds the database's write lock, a progress line could not commit
        progress = Progress(job_id, enabled=not (kind.writes and db.engine.dialect.name == "sqlite"))
        part = jobs_folder() / f".part-{job_id}-{os.getpid()}-{threading.get_ident()}"
        try:
            outcome = kind.run(job=job, progress=progress, path=part) or Outcome()
        except Exception as error:
            db.session.rollback()
            part.unlink(missing_ok=True)
            told = isinstance(error, kind.user_errors)
            final = told or task is None or not task.retries
            text = (str(error) if told else f"{type(error).__name__}: {error}")[:500]
            with db.engine.begin() as connection:
                connection.execute(
                    sa.update(table)
                    .where(table.c.id == job_id, table.c.status == RUNNING)
                    .values(
                        status=FAILED if final else QUEUED,
                        error=text,
                        message=("处理失败，请稍后重试或联系管理员" if final else "出错，稍后自动重试")
                        if not told
                        else "",
                        active_key=None if final else table.c.active_key,
                        finished_at=utcnow() if final else None,
                        updated_at=utcnow(),
                    )
                )
            if told:
                return None  # said to the user; nothing for Huey to retry
            raise
        db.session.rollback()  # whatever the handler left open; its own work committed already
        values = dict(
            status=DONE,
            message=outcome.message[:300],
            error=None,
            active_key=None,
            finished_at=utcnow(),
            updated_at=utcnow(),
            done=sa.case((table.c.total > 0, table.c.total), else_=table.c.done),
        )
        if outcome.download_name and part.exists():
            name = f"{job_id}-{hashlib.sha256(os.urandom(16)).hexdigest()[:16]}{Path(outcome.download_name).suffix}"
            os.replace(part, jobs_folder() / name)
            values.update(result_file=name, result_name=outcome.download_name[:200], result_type=outcome.mimetype)
        else:
            part.unlink(missing_ok=True)
        with db.engine.begin() as connection:
            connection.execute(sa.update(table).where(table.c.id == job_id, table.c.status == RUNNING).values(**values))
        return job_id

    run_job.__name__ = kind.name.replace(".", "_")
    return run_job


def jobs_recover(now=None):
    """Put lost jobs back on the queue: queued ones never enqueued (the queue was down) and running
    ones whose worker died; old files are removed. Returns how many were enqueued again."""
    now = now or utcnow()
    table = Job.__table__
    with db.engine.begin() as connection:
        lost = connection.execute(
            sa.update(table)
            .where(table.c.status == RUNNING, table.c.updated_at < now - STALE_RUNNING)
            .values(status=QUEUED, message="处理进程中断，重新排队", updated_at=now)
            .returning(table.c.id, table.c.kind)
        ).all()
        waiting = connection.execute(
            sa.select(table.c.id, table.c.kind).where(table.c.status == QUEUED, table.c.updated_at < now - STALE_QUEUED)
        ).all()
        connection.execute(
            sa.update(table).where(table.c.id.in_([r.id for r in waiting] or [0])).values(updated_at=now)
        )
    items = {(row.kind, row.id) for row in [*lost, *waiting]}
    app = current_app._get_current_object()
    _send(app, [(kind, (job_id,)) for kind, job_id in sorted(items) if kind in registry(app).kinds])
    cutoff = time.time() - KEEP_FILES.total_seconds()
    for path in jobs_folder().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass
    return len(items)


# ---- schedules ---------------------------------------------------------------------------------


def local_now():
    return utcnow().replace(tzinfo=None) + timedelta(hours=8)


def schedule_row(name):
    """The schedule's row, created with the declared defaults the first time it is asked for."""
    kind = registry().schedules[name]
    row = db.session.get(Schedule, name)
    if row is None:
        try:
            with db.session.begin_nested():
                row = Schedule(name=name, enabled=True, params=kind.defaults())
                db.session.add(row)
        except sa.exc.IntegrityError:
            row = db.session.get(Schedule, name)
    return row


def schedule_shown(name):
    """The schedule's row for a page view, which writes nothing: the stored row, or while there is
    none yet (the worker's first check makes it) an unsaved one with the declared defaults."""
    row = db.session.get(Schedule, name)
    if row is None:
        row = Schedule(name=name, enabled=True, params=registry().schedules[name].defaults())
    return row


def schedule_params(row):
    kind = registry().schedules[row.name]
    return {**kind.defaults(), **(row.params or {})}


def next_run(row, now=None):
    """When the schedule runs next (naive China time), or None when it is off."""
    if not row.enabled:
        return None
    now = now or local_now()
    today_at = now.replace(hour=int(schedule_params(row)["hour"]), minute=0, second=0, microsecond=0)
    if row.last_slot == now.date().isoformat():
        return today_at + timedelta(days=1)
    # not run today: at the hour, or within the minute when the hour has passed
    return max(today_at, now.replace(second=0, microsecond=0) + timedelta(minutes=1))


def schedule_run(name, slot, today):
    """Run schedule ``name`` for ``slot`` unless someone already has: the claim (a schedule_run row
    under a unique constraint), the work and the result commit together. Returns the result line,
    or None when the slot was taken."""
    kind = registry().schedules[name]
    row = schedule_row(name)
    db.session.commit()
    try:
        with db.session.begin_nested():
            db.session.add(ScheduleRun(schedule=name, slot=slot))
    except sa.exc.IntegrityError:
        db.session.rollback()
        return None
    try:
        result = kind.run(params=schedule_params(row), today=today) or "完成"
    except Exception as error:
        db.session.rollback()
        log.exception("schedule %s %s failed", name, slot)
        with db.engine.begin() as connection:
            table = Schedule.__table__
            connection.execute(
                sa.update(table)
                .where(table.c.name == name)
                .values(last_run_at=utcnow(), last_ok=False, last_result=f"失败：{type(error).__name__}: {error}"[:300])
            )
        return None
    db.session.execute(
        sa.update(ScheduleRun).where(ScheduleRun.schedule == name, ScheduleRun.slot == slot).values(result=result[:300])
    )
    db.session.execute(
        sa.update(Schedule)
        .where(Schedule.name == name)
        .values(last_run_at=utcnow(), last_slot=slot, last_ok=True, last_result=result[:300])
    )
    db.session.commit()
    return result


def schedules_check(now=None):
    """The periodic check (every minute): run each enabled schedule whose time has come today and
    whose slot nobody has claimed; then recover lost jobs."""
    now = now or local_now()
    slot = now.date().isoformat()
    ran = []
    for name in registry().schedules:
        row = schedule_row(name)
        due = row.enabled and now.hour >= int(schedule_params(row)["hour"]) and row.last_slot != slot
        db.session.commit()  # no transaction held while another runner claims
        if due and schedule_run(name, slot, now.date()) is not None:
            ran.append(name)
    db.session.commit()
    jobs_recover()
    return ran


# ---- processes ---------------------------------------------------------------------------------


class ThreadConsumer(Consumer):
    """A Huey consumer run in threads of a web process: no signal handlers (not the main thread)."""

    def _set_signal_handlers(self):
        pass


_embedded = {"pid": None}
_embedded_lock = threading.Lock()


def _start_embedded():
    """Start the in-process consumer once per process, on its first request (so a CLI command or
    a gunicorn master never starts one; a forked worker starts its own)."""
    if _embedded["pid"] == os.getpid():
        return
    with _embedded_lock:
        if _embedded["pid"] == os.getpid():
            return
        huey = registry().huey
        if huey.immediate or not isinstance(huey, SqliteHuey):
            _embedded["pid"] = os.getpid()
            return
        consumer = ThreadConsumer(huey, workers=current_app.config.get("JOBS_EMBEDDED_THREADS", 2), periodic=True)
        consumer.start()
        _embedded.update(pid=os.getpid(), consumer=consumer)
        log.info("embedded job consumer started in process %s", os.getpid())


jobs_cli = AppGroup("jobs", help="Background jobs (Huey): worker, scheduler, status.")


@jobs_cli.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, help="threads executing tasks")
def worker_command(workers):
    """Execute queued tasks (no periodic enqueueing: that is `flask jobs scheduler`)."""
    huey = registry().huey
    if huey.immediate:
        raise click.ClickException("JOBS_URL 为 memory://：任务在请求中立即执行，无需 worker。")
    Consumer(huey, workers=workers, periodic=False, worker_type="thread").run()


@jobs_cli.command("scheduler")
def scheduler_command():
    """Enqueue the schedule check every minute (one in production; a second one does no harm)."""
    huey = registry().huey
    if huey.immediate:
        raise click.ClickException("JOBS_URL 为 memory://：无法运行调度进程。")
    Consumer(huey, workers=0, periodic=True, worker_type="thread").run()


@jobs_cli.command("list")
def list_command():
    """The declared job kinds and schedules."""
    reg = registry()
    for kind in reg.kinds.values():
        click.echo(f"job {kind.name}\t{kind.label}\tretries={kind.retries} delay={kind.retry_delay}s x{kind.backoff}")
    for schedule in reg.schedules.values():
        click.echo(f"schedule {schedule.name}\t{schedule.label}")


@jobs_cli.command("run-schedules")
def run_schedules_command():
    """Run the schedule check once, now (what the scheduler does every minute)."""
    ran = schedules_check()
    click.echo("已运行：" + ("、".join(ran) if ran else "无"))
