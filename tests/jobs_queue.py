"""Driving the test queue (JOBS_URL=memory://, Huey's immediate mode) by hand.

In immediate mode a task runs as soon as it is enqueued, but a retry after a delay goes to Huey's
schedule and waits there; ``run_retries`` runs those one by one at their due time, returning each
wait, so a test sees the back-off as Huey applies it.
"""

from datetime import datetime

from app.jobs import registry


def scheduled(app):
    return registry(app).huey.scheduled()


def run_retries(app, limit=20):
    """Run the delayed retries in due order until none is left; returns the waits (seconds)."""
    huey = registry(app).huey
    waits = []
    for _ in range(limit):
        tasks = huey.read_schedule(datetime(2100, 1, 1))
        if not tasks:
            return waits
        for task in sorted(tasks, key=lambda t: t.eta):
            waits.append(round(task.retry_delay / (task.retry_backoff or 1)))
            huey.execute(task, timestamp=task.eta)
    raise AssertionError("retries did not stop")


def job_id_of(response):
    """The job a start POST redirected to (303 to /jobs/<id>)."""
    assert response.status_code == 303, f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    return int(location.rstrip("/").rsplit("/", 1)[-1])


def start_and_download(client, path, data=None):
    """POST a form that starts a job (immediate mode: it is done when the POST returns), open the
    job's page and return the download's response."""
    job_id = job_id_of(client.post(path, data=data or {}))
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200, page.status_code
    assert f"/jobs/{job_id}/download" in page.get_data(as_text=True), page.get_data(as_text=True)[:2000]
    return client.get(f"/jobs/{job_id}/download")
