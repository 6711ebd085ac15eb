"""通知公告管理: write, edit, pin, schedule, unpublish, delete, attachments; audited; admins only."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.portal.models import Notice
from app.extensions import db
from app.filings.models import Attachment
from app.utils import to_local, utcnow
from tests.factories import make_city_admin, make_institution, make_province_admin
from tests.helpers import login, page, text_of
from tests.portal.conftest import add_notice
from tests.uploads import stored_files

PDF = b"%PDF-1.4\n%notice\n"


def _rows(model, *criteria):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).where(*criteria).order_by(model.id)).all()  # PostgreSQL keeps no order


def _actions():
    return [entry.action for entry in _rows(AuditLog)]


@pytest.fixture
def admin(client, app_ctx):
    user = make_province_admin()
    assert login(client, user).status_code in (302, 303)
    return user


def _form(**changes):
    data = {
        "title": "关于开展2026年核心服务机构认定工作的通知",
        "category": "通知公告",
        "body": "请各市州**按时**报送。",
        "publish": "now",
        "publish_at": "",
    }
    data.update(changes)
    return data


def _local(value):
    return to_local(value).strftime("%Y-%m-%dT%H:%M")


def test_the_menu_offers_notice_management_to_province_admins_only(client, app_ctx):
    login(client, make_province_admin())
    soup = page(client.get("/notices/manage"))
    menu = [a.get_text(strip=True) for a in soup.select(".sidemenu a")]
    assert "通知公告管理" in menu and "核心服务机构名单导入" in menu
    headings = [h.get_text() for h in soup.select(".sidemenu h2")]
    assert headings.index("内容管理") < headings.index("系统管理")
    client.post("/auth/logout")
    login(client, make_city_admin())
    assert client.get("/notices/manage").status_code == 403
    assert "通知公告管理" not in text_of(page(client.get("/admin/")).select_one(".sidemenu"))


@pytest.mark.parametrize("factory", [make_city_admin, make_institution])
def test_others_cannot_write_notices(client, app_ctx, factory):
    notice = add_notice("已有通知")
    login(client, factory())
    assert client.post("/notices/manage/new", data=_form()).status_code == 403
    for action in ("edit", "pin", "publish", "unpublish", "delete"):
        assert client.post(f"/notices/manage/{notice.id}/{action}", data={"pinned": "1"}).status_code == 403
    assert _rows(Notice, Notice.id == notice.id)[0].title == "已有通知"


def test_publish_a_notice_with_an_attachment(client, admin):
    data = _form(pinned="y", files=[(io.BytesIO(PDF), "认定工作通知.pdf"), (io.BytesIO("说明".encode()), "说明.txt")])
    response = client.post("/notices/manage/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"] == "/notices/manage"
    [notice] = _rows(Notice)
    assert notice.is_public and notice.pinned and notice.author_id == admin.id
    assert sorted(a.original_name for a in notice.attachments) == ["认定工作通知.pdf", "说明.txt"]
    assert _actions() == ["notice.create"]
    assert "上传附件 2 个" in _rows(AuditLog)[0].summary
    # the public sees it on the 首页 (as the headline and in the list), in the list and on its page
    client.post("/auth/logout")
    home = page(client.get("/"))
    assert notice.title in home.select_one(".headline").get_text()
    assert notice.title in text_of(home.find("h2", string="通知公告").find_parent("section"))
    assert notice.title in text_of(page(client.get("/notices")))
    soup = page(client.get(f"/notices/{notice.id}"))
    assert soup.select_one(".notice-body strong").get_text() == "按时"
    link = soup.select_one(".notice-attachments").find("a", string="认定工作通知.pdf")
    download = client.get(link["href"])
    assert download.status_code == 200 and download.data == PDF
    assert "filename*=UTF-8''%E8%AE%A4" in download.headers["Content-Disposition"]


def test_a_refused_file_saves_nothing_and_keeps_the_input(client, admin, app):
    data = _form(files=[(io.BytesIO(PDF), "好文件.pdf"), (io.BytesIO(b"MZ\x90\x00"), "病毒.exe")])
    response = client.post("/notices/manage/new", data=data, content_type="multipart/form-data")
    soup = page(response)
    assert "格式不允许上传" in text_of(soup.select_one("#field-files"))
    assert soup.select_one(".error-summary") is not None
    assert soup.find("input", attrs={"name": "title"})["value"] == _form()["title"]
    assert _rows(Notice) == [] and _rows(Attachment) == [] and _rows(AuditLog) == []
    assert not stored_files(app)


def test_form_errors(client, admin):
    soup = page(
        client.post("/notices/manage/new", data=_form(title="", category="广告", publish="at", publish_at="明天"))
    )
    text = text_of(soup)
    assert "请填写标题" in text and "请选择栏目" in text and "请按 2024-07-08 09:00 的格式填写发布时间" in text
    soup = page(client.post("/notices/manage/new", data=_form(publish="at")))
    assert "请选择发布时间" in text_of(soup)
    assert _rows(Notice) == []


def test_schedule_then_it_appears_when_due(client, admin):
    later = utcnow() + timedelta(days=2)
    response = client.post("/notices/manage/new", data=_form(publish="at", publish_at=_local(later)))
    assert response.status_code == 303
    [notice] = _rows(Notice)
    assert notice.is_published and not notice.is_public and notice.status_label == "定时发布"
    assert abs((notice.published_at - later).total_seconds()) < 60
    # an admin previews it with a marker; the public gets a 404 and does not see it listed
    soup = page(client.get(f"/notices/{notice.id}"))
    assert "定时发布" in text_of(soup.select_one(".preview-note")) and "仅管理员可见" in text_of(soup)
    client.post("/auth/logout")
    page(client.get(f"/notices/{notice.id}"), status=404)
    assert notice.title not in text_of(page(client.get("/notices")))
    notice.published_at = utcnow() - timedelta(minutes=1)  # the time comes
    db.session.commit()
    assert notice.title in text_of(page(client.get("/notices")))


def test_back_dated_notice_keeps_its_date(client, admin):
    client.post("/notices/manage/new", data=_form(publish="at", publish_at="2023-11-21 09:30"))
    [notice] = _rows(Notice)
    assert notice.is_public and to_local(notice.published_at).strftime("%Y-%m-%d %H:%M") == "2023-11-21 09:30"


def test_draft_then_publish_now(client, admin):
    client.post("/notices/manage/new", data=_form(publish="draft"))
    [notice] = _rows(Notice)
    assert not notice.is_published
    soup = page(client.get("/notices/manage"))
    assert "未发布" in text_of(soup)
    client.post(f"/notices/manage/{notice.id}/publish")
    assert _rows(Notice)[0].is_public
    assert _actions() == ["notice.create", "notice.publish"]
    response = client.post(f"/notices/manage/{notice.id}/publish", follow_redirects=True)
    assert "该通知已发布" in text_of(page(response))


def test_edit_keeps_the_date_of_a_public_notice(client, admin):
    notice = add_notice("原标题", days_ago=10)
    published_at = notice.published_at
    soup = page(client.get(f"/notices/manage/{notice.id}/edit"))
    assert soup.find("input", attrs={"name": "title"})["value"] == "原标题"
    assert soup.find("input", attrs={"name": "publish", "value": "now"}).has_attr("checked")
    response = client.post(f"/notices/manage/{notice.id}/edit", data=_form(title="新标题"))
    assert response.status_code == 303
    notice = _rows(Notice)[0]
    assert notice.title == "新标题" and notice.published_at == published_at
    [entry] = _rows(AuditLog)
    assert entry.action == "notice.update" and entry.before["title"] == "原标题" and entry.after["title"] == "新标题"


def test_unpublish_hides_and_admin_still_sees_it(client, admin):
    notice = add_notice("将撤回的通知")
    assert client.post(f"/notices/manage/{notice.id}/unpublish").status_code == 303
    assert not _rows(Notice)[0].is_published
    soup = page(client.get(f"/notices/{notice.id}"))
    assert "未发布" in text_of(soup.select_one(".preview-note"))
    client.post("/auth/logout")
    page(client.get(f"/notices/{notice.id}"), status=404)
    assert "notice.unpublish" in _actions()


def test_only_one_headline(client, admin):
    first = add_notice("第一条头条", pinned=True)
    second = add_notice("第二条")
    client.post(f"/notices/manage/{second.id}/pin", data={"pinned": "1"})
    pinned = {n.title: n.pinned for n in _rows(Notice)}
    assert pinned == {"第一条头条": False, "第二条": True}
    assert "第二条" in page(client.get("/")).select_one(".headline").get_text()
    client.post(f"/notices/manage/{second.id}/pin", data={"pinned": "0"})
    assert not any(n.pinned for n in _rows(Notice))
    assert page(client.get("/")).select_one(".headline") is None
    assert _actions() == ["notice.pin", "notice.unpin"]
    assert "第一条头条" in _rows(AuditLog)[0].summary
    assert first.id


def test_delete_removes_notice_attachments_and_files(client, admin, app):
    client.post(
        "/notices/manage/new", data=_form(files=[(io.BytesIO(PDF), "a.pdf")]), content_type="multipart/form-data"
    )
    [notice] = _rows(Notice)
    assert len(stored_files(app)) == 1
    assert client.post(f"/notices/manage/{notice.id}/delete").status_code == 303
    assert _rows(Notice) == [] and _rows(Attachment) == []
    assert stored_files(app) == []
    assert _actions() == ["notice.create", "notice.delete"]


def test_delete_one_attachment(client, admin, app):
    files = [(io.BytesIO(PDF), "a.pdf"), (io.BytesIO(PDF), "b.pdf")]
    client.post("/notices/manage/new", data=_form(files=files), content_type="multipart/form-data")
    [notice] = _rows(Notice)
    keep, drop = sorted(notice.attachments, key=lambda a: a.original_name)
    other = add_notice("别的通知")
    assert client.post(f"/notices/manage/{other.id}/attachments/{drop.id}/delete").status_code == 404
    soup = page(client.get(f"/notices/manage/{notice.id}/edit"))
    assert [a.get_text() for a in soup.select("table.attachments td a")] == ["a.pdf", "b.pdf"]
    response = client.post(f"/notices/manage/{notice.id}/attachments/{drop.id}/delete")
    assert response.headers["Location"] == f"/notices/manage/{notice.id}/edit"
    assert [a.original_name for a in _rows(Attachment)] == ["a.pdf"]
    assert len(stored_files(app)) == 1
    assert "notice.attachment_delete" in _actions()
    assert keep.id


def test_attachments_of_hidden_notices_are_404_to_the_public(client, app_ctx, app):
    admin = make_province_admin()
    login(client, admin)
    client.post(
        "/notices/manage/new",
        data=_form(publish="draft", files=[(io.BytesIO(PDF), "a.pdf")]),
        content_type="multipart/form-data",
    )
    [notice] = _rows(Notice)
    url = f"/notices/{notice.id}/attachments/{notice.attachments[0].id}"
    assert client.get(url).status_code == 200  # the admin may check it
    client.post("/auth/logout")
    assert client.get(url).status_code == 404
    public = add_notice("公开通知")
    assert client.get(f"/notices/{public.id}/attachments/{notice.attachments[0].id}").status_code == 404


def test_list_filters(client, admin):
    add_notice("已发布的通知")
    add_notice("未发布的动态", category="工作动态", published=False)
    add_notice("明天的通知", days_ago=-1)

    def titles(query):
        return [a.get_text() for a in page(client.get("/notices/manage" + query)).select("#results td.name-col a")]

    assert len(titles("")) == 3
    assert titles("?status=draft") == ["未发布的动态"]
    assert titles("?status=scheduled") == ["明天的通知"]
    assert titles("?category=工作动态") == ["未发布的动态"]
    assert titles("?q=明天") == ["明天的通知"]
    assert len(titles("?status=nonsense")) == 3
    fragment = client.get("/notices/manage?status=public", headers={"HX-Request": "true"})
    assert [a.get_text() for a in page(fragment, fragment=True).select("td.name-col a")] == ["已发布的通知"]
