"""Who may read a notice that is not public yet (a draft or a scheduled one) and its attachments:
only the province admins who manage notices; a city admin gets the visitor's 404 (issue 13 item 12)."""

import io

import pytest
import sqlalchemy as sa

from app.blueprints.portal.models import Notice
from app.extensions import db
from tests.factories import make_city_admin, make_enterprise, make_expert, make_institution, make_province_admin
from tests.helpers import login, page, text_of

PDF = b"%PDF-1.4\n%notice\n"


def _write(client, title, publish, publish_at=""):
    """A notice with one attachment, written through 通知公告管理 by a province admin (then logged out)."""
    login(client, make_province_admin())
    data = {
        "title": title,
        "category": "通知公告",
        "body": "正文",
        "publish": publish,
        "publish_at": publish_at,
        "files": [(io.BytesIO(PDF), "附件.pdf")],
    }
    assert client.post("/notices/manage/new", data=data, content_type="multipart/form-data").status_code == 303
    client.post("/auth/logout")
    db.session.expire_all()
    notice = db.session.scalar(sa.select(Notice).where(Notice.title == title))
    return f"/notices/{notice.id}", f"/notices/{notice.id}/attachments/{notice.attachments[0].id}"


@pytest.fixture
def hidden(client, app_ctx):
    """URLs (page, attachment) of a draft and of a notice scheduled for next year, and of a public one."""
    from app.utils import local_today

    later = f"{local_today().year + 1}-01-05T09:00"
    return {
        "draft": _write(client, "草稿通知", "draft"),
        "scheduled": _write(client, "定时通知", "at", later),
        "public": _write(client, "公开通知", "now"),
    }


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
@pytest.mark.parametrize("factory", [make_city_admin, make_institution, make_expert, make_enterprise])
def test_signed_in_non_managers_get_404_for_hidden_notices_and_their_files(client, hidden, kind, factory):
    login(client, factory())
    notice_url, file_url = hidden[kind]
    page(client.get(notice_url), status=404)
    assert client.get(file_url).status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
def test_visitors_get_404(client, hidden, kind):
    notice_url, file_url = hidden[kind]
    page(client.get(notice_url), status=404)
    assert client.get(file_url).status_code == 404


@pytest.mark.parametrize("kind", ["draft", "scheduled"])
def test_the_province_admin_previews_hidden_notices_and_files(client, hidden, kind):
    login(client, make_province_admin())
    notice_url, file_url = hidden[kind]
    soup = page(client.get(notice_url))
    assert ("未发布" if kind == "draft" else "定时发布") in text_of(soup.select_one(".preview-note"))
    response = client.get(file_url)
    assert response.status_code == 200 and response.data == PDF


def test_a_city_admin_reads_public_notices_and_files(client, hidden):
    login(client, make_city_admin())
    notice_url, file_url = hidden["public"]
    soup = page(client.get(notice_url))
    assert soup.select_one(".preview-note") is None
    assert client.get(file_url).status_code == 200


def test_a_city_admin_cannot_reach_a_hidden_file_through_a_public_notice(client, hidden):
    login(client, make_city_admin())
    public_url, _ = hidden["public"]
    _, draft_file = hidden["draft"]
    attachment_id = draft_file.rsplit("/", 1)[1]
    assert client.get(f"{public_url}/attachments/{attachment_id}").status_code == 404
