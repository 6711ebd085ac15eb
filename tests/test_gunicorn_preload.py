"""gunicorn as deploy/gunicorn.conf.py runs it (the app preloaded in the master, workers forked
from it): workers replaced after max_requests serve at once, each with database connections and a
job queue connection of its own (a SQLite connection used across a fork corrupts nothing only if
it is never shared)."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_preloaded_workers_recycle_and_each_use_their_own_connections(tmp_path):
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "TEST_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
        UPLOAD_DIR=str(tmp_path / "uploads"),
        JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}",
        JOBS_DIR=str(tmp_path / "jobs"),
        JOBS_EMBEDDED_WORKER="1",
        APP_ENV="development",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_MAX_REQUESTS="6",  # jitter 0: every worker is replaced after 6 requests
        GUNICORN_ACCESSLOG="",
    )
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["load-reference"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded CI machine boots the workers slowly
        while True:
            try:
                requests.get(url + "/healthz", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        statuses = []
        for n in range(40):  # pages that read the database, on both workers, across replacements
            response = requests.get(url + ("/", "/notices", "/institutions", "/big-data")[n % 4], timeout=10)
            statuses.append(response.status_code)
        assert statuses == [200] * 40
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    booted = re.findall(r"Booting worker with pid: (\d+)", text)
    assert len(booted) >= 6, text  # 2 at the start, then replacements, each forked at once
    assert "Traceback" not in text and "database is locked" not in text, text


def test_the_config_serves_a_baseline_app_from_another_folder(tmp_path):
    """The benchmark runs its bare baselines (bench/hello.py, bench/peer.py) under the same config
    from bench/: the preload hooks leave an app that is not this project's alone (they once
    imported ``wsgi``, which is not there, and no worker booted)."""
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "TEST_"))}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_ACCESSLOG="")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--chdir",
                str(ROOT / "bench"),
                "hello:app",
            ],
            cwd=ROOT / "bench",
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.1)
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log.read_text()


def test_a_worker_told_to_stop_while_it_boots_stops(tmp_path):
    """A stop (systemctl stop, or the end of this suite's server) that reaches a worker between its
    fork and gunicorn's own signal handlers is not lost: gunicorn would otherwise run the master's
    handler in the worker, which only queues the signal, and the master would wait out
    graceful_timeout (30 s) before killing the worker. Here each worker lingers in its boot for
    two seconds after the config's post_fork, and the stop comes then."""
    port = _port()
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        "import time\n"
        f"exec(compile(open({str(ROOT / 'deploy' / 'gunicorn.conf.py')!r}).read(), 'gunicorn.conf.py', 'exec'))\n"
        "_post_fork = post_fork\n"
        "def post_fork(server, worker):\n"
        "    _post_fork(server, worker)\n"
        "    print('BOOTING', flush=True)\n"
        "    time.sleep(2)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "TEST_"))}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_ACCESSLOG="")
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(config), "--chdir", str(ROOT / "bench"), "hello:app"],
            cwd=ROOT / "bench",
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("BOOTING") < 2:  # both workers inside the lingering boot
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.05)
        server.terminate()
        server.wait(timeout=15)  # the two seconds of boot, not graceful_timeout's 30
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    text = log.read_text()
    assert "Traceback" not in text, text
