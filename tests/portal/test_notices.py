"""通知公告: only published notices whose time has come are listed or shown."""

from app.extensions import db
from tests.helpers import page, text_of
from tests.portal.conftest import add_notice


def test_list_shows_published_notices_only(client, notices):
    text = text_of(page(client.get("/notices")))
    assert "2023年全省中小微企业核心服务机构运营情况通报" in text
    assert "全省中小企业数字化转型城市试点工作推进会召开" in text
    assert "草稿" not in text
    assert "定时发布" not in text
    assert "当前显示第 1 页 共 3 条记录" in text


def test_list_by_category(client, notices):
    text = text_of(page(client.get("/notices?category=工作动态")))
    assert "推进会召开" in text and "运营情况通报" not in text
    assert "当前显示第 1 页 共 1 条记录" in text
    text = text_of(page(client.get("/notices?category=通知公告")))
    assert "推进会召开" not in text and "当前显示第 1 页 共 2 条记录" in text
    # an unknown category shows everything
    assert "共 3 条记录" in text_of(page(client.get("/notices?category=nonsense")))


def test_list_pages(client, app_ctx):
    for n in range(25):
        add_notice(f"通知{n:02d}", days_ago=n + 1)
    soup = page(client.get("/notices"))
    assert "当前显示第 1 页 共 25 条记录" in text_of(soup)
    assert len(soup.select("ul.news li")) == 20
    next_link = soup.find("a", rel="next")
    soup = page(client.get(next_link["href"]))
    assert "当前显示第 2 页 共 25 条记录" in text_of(soup)
    assert [a.get_text() for a in soup.select("ul.news a")] == [f"通知{n:02d}" for n in range(20, 25)]


def test_show_notice(client, notices):
    notice = notices["report"]
    soup = page(client.get(f"/notices/{notice.id}"))
    assert soup.h1.get_text() == notice.title
    assert soup.title.get_text().startswith(notice.title)


def test_unpublished_and_future_notices_are_404(client, notices):
    page(client.get(f"/notices/{notices['draft'].id}"), status=404)
    page(client.get(f"/notices/{notices['future'].id}"), status=404)
    page(client.get("/notices/999999"), status=404)


def test_body_is_markdown_without_scripts(client, app_ctx):
    notice = add_notice(
        "正文测试",
        body="第一段<script>alert(1)</script>\n\n第二段\n第三段\n\n# 一、小标题\n\n## （一）次标题\n\n- 甲\n- 乙",
    )
    response = client.get(f"/notices/{notice.id}")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "alert(1)" not in html
    body = page(response).select_one(".notice-body")
    assert [p.get_text() for p in body.find_all("p")] == ["第一段", "第二段\n第三段"]
    assert body.find("br") is not None  # a single line break stays a line break
    # headings sit under the page's own <h1>: "#" is <h2>, "##" <h3>
    assert (body.h2.get_text(), body.h3.get_text()) == ("一、小标题", "（一）次标题")
    assert body.find("h1") is None
    assert [li.get_text() for li in body.find_all("li")] == ["甲", "乙"]


def test_previous_and_next_links(client, app_ctx):
    older = add_notice("较早的通知", days_ago=5)
    middle = add_notice("中间的通知", days_ago=4)
    newer = add_notice("较新的通知", days_ago=3)
    add_notice("未发布的通知", days_ago=4, published=False)
    add_notice("其他栏目", category="工作动态", days_ago=4)
    soup = page(client.get(f"/notices/{middle.id}"))
    nav = soup.select_one(".article-nav")
    links = {p.get_text().split("：")[0]: p.a for p in nav.find_all("p") if "：" in p.get_text()}
    assert links["上一篇"]["href"] == f"/notices/{newer.id}"
    assert links["下一篇"]["href"] == f"/notices/{older.id}"
    # the ends say so
    text = text_of(page(client.get(f"/notices/{older.id}")).select_one(".article-nav"))
    assert "下一篇： 没有了" in text


def test_unpublishing_hides_a_notice(client, notices):
    notice = notices["report"]
    assert client.get(f"/notices/{notice.id}").status_code == 200
    notice.is_published = False
    db.session.commit()
    assert client.get(f"/notices/{notice.id}").status_code == 404
    assert notice.title not in text_of(page(client.get("/")))
