"""Driving the test queue (JOBS_URL=memory://, Huey's immediate mode) by hand.

In immediate mode a task runs as soon as it is enqueued, but a retry after a delay goes to Huey's
schedule and waits there; ``run_retries`` runs those one by one at their due time, returning each
wait, so a test sees the back-off as Huey applies it.
"""

from datetime import datetime

from app.jobs import registry
from tests.helpers import page


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


def export_form(soup):
    """The form of a page's 导出Excel button (the review queue, or the GET link's confirmation page)."""
    button = next(b for b in soup.find_all("button") if b.get_text(strip=True) == "导出Excel")
    form = button.find_parent("form")
    assert form is not None and form["method"] == "post", str(button.parent)[:300]
    return form["action"], {tag["name"]: tag.get("value", "") for tag in form.find_all("input", type="hidden")}


def queue_export(client, url=None, soup=None):
    """导出Excel of a review queue through its job, returning the download: from the queue page's
    button (``soup``), or from an export link ``url`` (a GET asks first; its button is posted)."""
    if soup is None:
        soup = page(client.get(url))
    action, data = export_form(soup)
    return start_and_download(client, action, data)
