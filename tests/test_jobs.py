"""The job queue (app/jobs.py): immediate mode in tests, a real SqliteHuey consumer thread, Redis
storage, enqueue-after-commit, the runner's claim, retries and the final failure."""

import time

import pytest
import redis

from app import create_app
from app.extensions import db
from app.jobs import (
    DONE,
    FAILED,
    QUEUED,
    Job,
    JobKind,
    Outcome,
    ThreadConsumer,
    enqueue,
    job_file,
    job_start,
    jobs_recover,
    make_huey,
    registry,
)
from app.utils import utcnow
from tests.factories import make_province_admin
from tests.jobs_queue import run_retries

CALLS = []


def _probe(*, job, progress, path):
    CALLS.append(job.params.get("n"))
    if job.params.get("fail"):
        raise RuntimeError("计算失败")
    progress(1, 1, "一半", force=True)
    path.write_text("结果")
    return Outcome("完成了", download_name="结果.txt", mimetype="text/plain")


PROBE = JobKind("test.probe", "测试任务", _probe, retries=2, retry_delay=5, backoff=3)


@pytest.fixture
def probe(app, monkeypatch):
    """The probe kind registered on the test app's queue for this test only."""
    from app.jobs import _in_app, _job_runner

    reg = registry(app)
    task = reg.huey.task(retries=2, retry_delay=5, retry_backoff=3, context=True, name=PROBE.name)(
        _in_app(app, _job_runner(PROBE), writes=False)
    )
    monkeypatch.setitem(reg.kinds, PROBE.name, PROBE)
    monkeypatch.setitem(reg.tasks, PROBE.name, task)
    CALLS.clear()
    yield
    task.unregister()


def _job(job_id):
    db.session.rollback()
    return db.session.get(Job, job_id)


def test_the_queue_follows_jobs_url(tmp_path):
    assert type(make_huey("memory://")).__name__ == "MemoryHuey" and make_huey("memory://").immediate
    sqlite = make_huey(f"sqlite:///{tmp_path / 'q' / 'jobs.db'}")
    assert type(sqlite).__name__ == "SqliteHuey" and (tmp_path / "q").is_dir()
    assert type(make_huey("redis://127.0.0.1:6379/5")).__name__ == "RedisHuey"
    with pytest.raises(ValueError, match="JOBS_URL 无法识别"):
        make_huey("amqp://localhost")


def test_every_declared_kind_is_a_task(app):
    reg = registry(app)
    assert {"sms.deliver", "reports.export", "reports.bulletin", "reports.remind", "portal.import"} <= set(reg.tasks)
    assert set(reg.kinds) <= set(reg.tasks) and "schedules.check" in reg.tasks
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "job reports.export" in result.output and "schedule reports.deadline_reminders" in result.output


def test_immediate_mode_runs_the_job_after_the_commit(app, app_ctx, probe):
    admin = make_province_admin()
    job = job_start(kind=PROBE.name, params={"n": 1}, user=admin, title="测试")
    job = _job(job.id)
    assert job.status == DONE and job.message == "完成了" and job.attempts == 1 and job.active_key is None
    assert job.percent == 100 and job_file(job).read_text() == "结果" and job.result_name == "结果.txt"
    assert CALLS == [1]


def test_a_rolled_back_transaction_enqueues_nothing(app, app_ctx, probe):
    admin = make_province_admin()
    job = Job(kind=PROBE.name, requester_id=admin.id, scope="province", params={"n": 2})
    db.session.add(job)
    db.session.flush()
    enqueue(PROBE.name, job.id)
    db.session.rollback()
    assert CALLS == []


def test_a_job_delivered_twice_runs_once(app, app_ctx, probe):
    admin = make_province_admin()
    job = job_start(kind=PROBE.name, params={"n": 3}, user=admin, title="测试")
    registry(app).tasks[PROBE.name](job.id)  # a second delivery of the same job
    assert CALLS == [3] and _job(job.id).attempts == 1


def test_a_failing_job_is_retried_with_back_off_then_failed(app, app_ctx, probe):
    admin = make_province_admin()
    job = job_start(kind=PROBE.name, params={"n": 4, "fail": True}, user=admin, title="测试")
    row = _job(job.id)
    assert row.status == QUEUED and "稍后自动重试" in row.message and "计算失败" in row.error
    assert run_retries(app) == [5, 15]
    row = _job(job.id)
    assert row.status == FAILED and row.attempts == 3 and row.active_key is None and CALLS == [4, 4, 4]
    assert job_file(row) is None


def test_lost_jobs_are_enqueued_again(app, app_ctx, probe):
    """A job whose enqueue failed (the queue was down) runs when the scheduler's recovery finds it."""
    admin = make_province_admin()
    job = Job(kind=PROBE.name, requester_id=admin.id, scope="province", params={"n": 5}, status=QUEUED)
    job.updated_at = utcnow().replace(year=2020)
    db.session.add(job)
    db.session.commit()
    assert jobs_recover() == 1
    assert _job(job.id).status == DONE and CALLS == [5]


def test_a_real_consumer_thread_picks_the_job_up(app, tmp_path):
    """SqliteHuey, the embedded default: the web process enqueues, a consumer thread runs it."""
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
            "JOBS_DIR": str(tmp_path / "files"),
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "RATELIMIT_ENABLED": False,
        }
    )
    huey = registry(other).huey
    assert not huey.immediate
    consumer = ThreadConsumer(huey, workers=1, periodic=False, initial_delay=0.05, max_delay=0.2)
    consumer.start()
    try:
        with other.test_request_context("/", method="POST"):
            admin = make_province_admin()
            job = job_start(
                kind="reports.export", params={"year": 2025, "month_from": 1, "month_to": 12}, user=admin, title="导出"
            )
            job_id = job.id
            db.session.remove()
        deadline = time.monotonic() + 30
        with other.app_context():
            while time.monotonic() < deadline:
                row = db.session.get(Job, job_id)
                if row.status in (DONE, FAILED):
                    break
                db.session.remove()
                time.sleep(0.1)
            assert row.status == DONE, (row.status, row.error)
            assert job_file(row).read_bytes()[:2] == b"PK" and row.result_name.endswith(".xlsx")
            db.session.remove()
    finally:
        consumer.stop(graceful=True)
        with other.app_context():
            db.engine.dispose()


def test_redis_storage_round_trip(app):
    """RedisHuey (production): a task enqueued is there for a worker to take (Redis db 5)."""
    client = redis.Redis.from_url("redis://127.0.0.1:6379/5", socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    huey = make_huey("redis://127.0.0.1:6379/5", name="smehn-test")
    huey.flush()
    seen = []
    task = huey.task(name="probe")(lambda n: seen.append(n))
    task(7)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())
    assert seen == [7] and huey.pending_count() == 0
    huey.flush()


def test_the_embedded_worker_starts_once_on_the_first_request(app, tmp_path, monkeypatch):
    """make run (SQLite storage, JOBS_EMBEDDED_WORKER): the web process runs jobs itself; the
    consumer starts on the first request (never for a CLI command) and only once per process."""
    from app import jobs

    monkeypatch.setattr(jobs, "_embedded", {"pid": None})
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
            "JOBS_DIR": str(tmp_path / "files"),
            "JOBS_EMBEDDED_WORKER": True,
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "RATELIMIT_ENABLED": False,
        }
    )
    assert other.test_cli_runner().invoke(args=["jobs", "list"]).exit_code == 0
    assert jobs._embedded["pid"] is None  # a command starts no consumer
    client = other.test_client()
    client.get("/healthz")
    consumer = jobs._embedded["consumer"]
    client.get("/healthz")
    assert jobs._embedded["consumer"] is consumer
    try:
        with other.test_request_context("/", method="POST"):
            job = job_start(kind="reports.export", params={"year": 2025}, user=make_province_admin(), title="导出")
            job_id = job.id
            db.session.remove()
        deadline = time.monotonic() + 30
        with other.app_context():
            while (row := db.session.get(Job, job_id)).status not in (DONE, FAILED) and time.monotonic() < deadline:
                db.session.remove()
                time.sleep(0.1)
            assert row.status == DONE, (row.status, row.error)
            db.session.remove()
    finally:
        consumer.stop(graceful=True)
        with other.app_context():
            db.engine.dispose()
