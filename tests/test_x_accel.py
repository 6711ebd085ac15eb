"""X-Accel-Redirect: with X_ACCEL_REDIRECT_PREFIX set, nginx streams attachment downloads; the app
still decides who may have them and what the headers say."""

import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.filings.attachments import attachment_path, attachment_store
from app.filings.models import Attachment
from tests.applications.test_flow import fill_steps, new_draft, upload
from tests.factories import make_institution, make_round
from tests.helpers import login
from tests.portal.conftest import add_notice

PDF = b"%PDF-1.4\n%accel\n"
PREFIX = "/_protected_files/"


@pytest.fixture
def accel(app, monkeypatch):
    monkeypatch.setitem(app.config, "X_ACCEL_REDIRECT_PREFIX", PREFIX)


def owned_attachment(app, client):
    with app.app_context():
        make_round("application", year=2026)
        owner = make_institution(city_code="430100", county_code="430102").username
        other = make_institution(city_code="430100", county_code="430102").username
    login(client, owner)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    upload(client, filing_id, ("营业执照（副本）.pdf", PDF))
    with app.app_context():
        attachment = db.session.scalars(sa.select(Attachment)).one()
    return f"/applications/{filing_id}/attachments/{attachment.id}", attachment, other


def test_the_download_names_the_file_for_nginx(app, client, accel):
    url, attachment, _other = owned_attachment(app, client)
    response = client.get(url)
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == PREFIX + quote(attachment.stored_name)
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('营业执照（副本）.pdf')}" in disposition
    assert response.headers["Cache-Control"] == "no-store"


def test_without_the_prefix_the_app_sends_the_file(app, client):
    url, _attachment, _other = owned_attachment(app, client)
    response = client.get(url)
    assert response.data == PDF and "X-Accel-Redirect" not in response.headers


def test_access_is_checked_before(app, client, accel):
    url, _attachment, other = owned_attachment(app, client)
    client.post("/auth/logout")
    anonymous = client.get(url)
    assert anonymous.status_code in (302, 303) and "X-Accel-Redirect" not in anonymous.headers
    login(client, other)
    refused = client.get(url)
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers


def test_a_missing_file_is_not_handed_to_nginx(app, client, accel):
    url, attachment, _other = owned_attachment(app, client)
    with app.app_context():
        attachment_path(attachment).unlink()
    response = client.get(url)
    assert response.status_code == 404 and "X-Accel-Redirect" not in response.headers
    assert "附件文件缺失" in response.get_data(as_text=True)


def test_notice_attachments_too(app, client, accel, app_ctx):
    public, hidden = add_notice("公开通知"), add_notice("草稿通知", published=False)
    ids = {}
    for notice in (public, hidden):
        attachment = attachment_store(FileStorage(io.BytesIO(PDF), filename="附件.pdf"), user=None)
        attachment.notice_id = notice.id
        db.session.commit()
        ids[notice.id] = attachment
    ok = client.get(f"/notices/{public.id}/attachments/{ids[public.id].id}")
    assert ok.status_code == 200 and ok.headers["X-Accel-Redirect"] == PREFIX + ids[public.id].stored_name
    refused = client.get(f"/notices/{hidden.id}/attachments/{ids[hidden.id].id}")
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused.headers
