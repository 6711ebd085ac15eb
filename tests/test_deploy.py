"""The production profile in deploy/: the gunicorn config loads with sane values, the nginx site
passes ``nginx -t`` (skipped without nginx, except in CI), and the files agree with the app's
settings (upload limit, X-Accel-Redirect location, the settings env.example lists)."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.config import Config

from app.config import ENV_KEYS, Defaults

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
REQUIRED = os.environ.get("CI") == "1" or os.environ.get("E2E_REQUIRED") == "1"
GUNICORN_ENV = (
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_ACCESSLOG",
)


def load_gunicorn_config(monkeypatch, **env):
    for name in GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", DEPLOY / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_gunicorn_sees_it(module):
    """gunicorn's own Config, fed the way ``-c`` feeds it: unknown names are an error here."""
    config = Config()
    names = [name for name in vars(module) if not name.startswith("_") and name.islower()]
    settings = [name for name in names if name in config.settings]
    helpers = {"gc", "multiprocessing", "os", "path", "post_fork", "pre_fork", "queue", "signal"}
    assert set(names) - set(settings) - helpers == set(), "a misspelt gunicorn setting"
    for name in settings:
        config.set(name, getattr(module, name))
    return config


def test_gunicorn_config_defaults_are_production_sane(monkeypatch):
    module = load_gunicorn_config(monkeypatch)
    config = as_gunicorn_sees_it(module)
    assert config.bind == ["127.0.0.1:8000"]  # loopback: nginx is the one way in
    assert 1 <= config.workers <= 8 and config.threads == 1
    assert config.timeout == 60 and 0 < config.graceful_timeout < config.timeout
    assert config.preload_app is True and config.reload is False
    assert as_gunicorn_sees_it(load_gunicorn_config(monkeypatch, GUNICORN_PRELOAD="0")).preload_app is False
    assert config.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert config.max_requests > 0 and 0 < config.max_requests_jitter < config.max_requests
    assert Path(config.chdir) == ROOT and (ROOT / "wsgi.py").exists() and config.wsgi_app == "wsgi:app"
    assert "{x-request-id}o" in config.access_log_format and "{x-real-ip}i" in config.access_log_format
    assert callable(config.post_fork)
    # nginx waits longer than gunicorn lets a worker run
    site = (DEPLOY / "nginx" / "hnsme.conf").read_text()
    assert int(re.search(r"proxy_read_timeout (\d+)s;", site).group(1)) > config.timeout


def test_gunicorn_config_reads_the_environment(monkeypatch):
    module = load_gunicorn_config(
        monkeypatch, GUNICORN_BIND="127.0.0.1:5000", GUNICORN_WORKERS="2", GUNICORN_THREADS="4", GUNICORN_TIMEOUT="90"
    )
    config = as_gunicorn_sees_it(module)
    assert (config.bind, config.workers, config.threads, config.timeout) == (["127.0.0.1:5000"], 2, 4, 90)
    assert load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="3").workers == 3


def test_nginx_accepts_the_whole_upload_limit_and_sends_protected_files_from_the_upload_dir():
    site = (DEPLOY / "nginx" / "hnsme.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", site)
    assert size and int(size.group(1)) * 1024 * 1024 >= Defaults.MAX_CONTENT_LENGTH
    protected = re.search(r"location (/\S+/) \{\s*internal;\s*alias /var/lib/hnsme/uploads/;", site)
    env = (DEPLOY / "env.example").read_text()
    assert protected and f"X_ACCEL_REDIRECT_PREFIX={protected.group(1)}" in env
    assert "UPLOAD_DIR=/var/lib/hnsme/uploads\n" in env
    for header in (
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Request-ID $request_id",
    ):
        assert f"proxy_set_header {header};" in site


def _render_module():
    spec = importlib.util.spec_from_file_location("nginx_render_under_test", DEPLOY / "nginx" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_x_accel_comes_with_the_uploads_group_nginx_and_the_service_share():
    """nginx's workers are www-data, not root and not hnsme: they read the uploads through UPLOAD_GROUP,
    a group of their own (www-data in group hnsme could read /etc/hnsme/env)."""
    env = (DEPLOY / "env.example").read_text()
    assert "\nX_ACCEL_REDIRECT_PREFIX=/_protected_files/\n" in env and "\nUPLOAD_GROUP=hnsme-files\n" in env
    readme = (DEPLOY / "README.md").read_text()
    for step in (
        "addgroup --system hnsme-files",
        "usermod -aG hnsme-files hnsme",
        "usermod -aG hnsme-files www-data",
        "install -d -o hnsme -g hnsme-files -m 2750 /var/lib/hnsme/uploads",
        "install -m 0640 -g hnsme /opt/hnsme/app/deploy/env.example /etc/hnsme/env",
    ):
        assert step in readme, step
    assert "Known gap" not in readme


@pytest.mark.parametrize("user, line", [(None, "user www-data;"), ("nginx-ci", "user nginx-ci;")])
def test_nginx_rendered_for_root_runs_its_workers_unprivileged(tmp_path, monkeypatch, user, line):
    render = _render_module()
    monkeypatch.setattr(render.os, "geteuid", lambda: 0)
    site = {"root": ROOT, "uploads": tmp_path / "uploads", "upstream": "127.0.0.1:8001"}
    site |= {"http_port": 8080, "https_port": 8443, "cert": tmp_path / "c.pem", "key": tmp_path / "k.pem"}
    conf = render.render(tmp_path / "nginx", user=user, **site).read_text()
    assert f"\n{line}\n" in conf and "user root;" not in conf
    with pytest.raises(SystemExit):
        render.render(tmp_path / "nginx", user="root", **site)
    monkeypatch.setattr(render.os, "geteuid", lambda: 1000)
    assert "\nuser " not in render.render(tmp_path / "nginx", user=user, **site).read_text()


def test_env_example_lists_every_setting_the_environment_can_give():
    env = (DEPLOY / "env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", env, flags=re.M))
    assert set(ENV_KEYS) - listed - {"CAPTCHA_TEST_CODE"} == set(), "add these to deploy/env.example"
    assert "CAPTCHA_TEST_CODE=" not in env and "APP_ENV=production\n" in env


def test_systemd_units_run_as_the_service_user_with_the_env_file():
    for name in ("hnsme-web", "hnsme-worker", "hnsme-scheduler"):
        unit = (DEPLOY / "systemd" / f"{name}.service").read_text()
        for line in (
            "User=hnsme",
            "EnvironmentFile=/etc/hnsme/env",
            "Restart=on-failure",
            "WorkingDirectory=/opt/hnsme/app",
        ):
            assert f"\n{line}\n" in unit, (name, line)
    assert (
        "gunicorn -c /opt/hnsme/app/deploy/gunicorn.conf.py" in (DEPLOY / "systemd" / "hnsme-web.service").read_text()
    )


def _need(tool):
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path is None:
        message = f"{tool} is not installed (Debian: apt-get install {tool})"
        if REQUIRED:
            pytest.fail(message + "; CI=1 / E2E_REQUIRED=1 do not allow skipping")
        pytest.skip(message)
    return path


def test_the_nginx_site_passes_nginx_t(tmp_path):
    nginx, openssl = _need("nginx"), _need("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    rendered = subprocess.run(
        [sys.executable, str(DEPLOY / "nginx" / "render.py"), "--prefix", str(tmp_path / "nginx"), "--root", str(ROOT)]
        + ["--uploads", str(tmp_path / "uploads"), "--cert", str(cert), "--key", str(key)],
        check=True,
        capture_output=True,
        text=True,
    )
    conf = rendered.stdout.strip()
    result = subprocess.run([nginx, "-t", "-c", conf, "-p", str(tmp_path / "nginx")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_preloaded_master_freezes_what_it_loaded_before_each_fork(monkeypatch):
    """pre_fork moves the master's loaded objects out of the collector's view (gc.freeze), so a
    worker's full collections walk only its own objects; without preload there is nothing to keep."""
    import gc
    from types import SimpleNamespace

    module = load_gunicorn_config(monkeypatch)
    try:
        module.pre_fork(SimpleNamespace(cfg=SimpleNamespace(preload_app=False)), None)
        assert gc.get_freeze_count() == 0
        module.pre_fork(SimpleNamespace(cfg=SimpleNamespace(preload_app=True)), None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_preloading_master_compiles_every_template_for_its_workers(monkeypatch, app):
    """when_ready compiles each template once in the master; Jinja's cache holds them all, so none
    is compiled again in a worker or evicted by another."""
    from types import SimpleNamespace

    from flask import Flask

    module = load_gunicorn_config(monkeypatch)

    def server(preload, wsgi):
        return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload), app=SimpleNamespace(wsgi=lambda: wsgi))

    app.jinja_env.cache.clear()
    module.when_ready(server(False, app))
    assert len(app.jinja_env.cache) == 0
    # another preloaded Flask app (the benchmark's peer and hello run under this config) is left alone
    other = Flask("peer")
    module.when_ready(server(True, other))
    assert len(app.jinja_env.cache) == 0
    module.when_ready(server(True, app))
    names = [n for n in app.jinja_env.list_templates() if n.endswith(".html")]
    assert len(names) > 100 and len(app.jinja_env.cache) == len(names)
    with app.test_request_context():
        compiled = app.jinja_env.get_template("base.html")
        assert app.jinja_env.get_template("base.html") is compiled  # served from the cache
