"""Every portal page renders for a visitor, with its title and an honest empty state."""

import pytest

from tests.helpers import page, text_of

PAGES = [
    ("/", "通知公告"),
    ("/notices", "通知公告"),
    ("/institutions", "暂无已认定的核心服务机构名单。核心服务机构经申报、市州初审、省级认定后在此公布。"),
    ("/excellent/institutions", "暂无已公布的优秀服务机构"),
    ("/excellent/products", "暂无已公布的优秀服务产品"),
    ("/excellent/experts", "暂无已公布的优秀服务专家"),
    ("/big-data", "暂无调度数据。核心服务机构按月填报运营数据并经审核后，在此展示汇总指标。"),
    ("/search", "请输入要搜索的关键词"),
    ("/contact", "联系我们"),
    ("/help", "系统操作问题答疑"),
]


@pytest.mark.parametrize("path, expected", PAGES)
def test_page_renders_for_a_visitor(client, path, expected):
    soup = page(client.get(path))
    assert soup.find("html") is not None
    assert expected in text_of(soup)


@pytest.mark.parametrize("path", [p for p, _ in PAGES])
def test_page_renders_for_a_logged_in_user(client, app_ctx, path):
    from tests.factories import make_institution
    from tests.helpers import login

    login(client, make_institution())
    soup = page(client.get(path))
    assert "工作台" in text_of(soup)


def test_directory_pages_have_their_titles(client):
    for path, title in [
        ("/institutions", "核心服务机构"),
        ("/excellent/institutions", "优秀服务机构"),
        ("/excellent/products", "优秀服务产品"),
        ("/excellent/experts", "优秀服务专家"),
        ("/big-data", "调度大数据"),
    ]:
        soup = page(client.get(path))
        assert soup.h1.get_text(strip=True) == title
        assert soup.title.get_text().startswith(title)


def test_home_page(client, notices):
    soup = page(client.get("/"))
    headline = soup.select_one(".headline")
    assert "关于公布湖南省中小微企业核心服务机构（2023-2026）名单的通知" in headline.get_text()
    buttons = [a.get_text(strip=True) for a in soup.select(".entry-buttons a")]
    assert buttons == ["申报入口", "调度管理入口", "优秀评选入口", "企业投诉入口"]
    assert [a["href"] for a in soup.select(".entry-buttons a")] == [
        "/entry/apply",
        "/entry/report",
        "/entry/award",
        "/entry/complaint",
    ]
    text = text_of(soup)
    assert "查看全部 >>" in text
    assert "工作动态" in text and "全省中小企业数字化转型城市试点工作推进会召开" in text
    # the 通知公告 column holds only 通知公告, each with its date as 2024-07-08
    column = soup.find("h2", string="通知公告").find_parent("section")
    items = column.select("ul.news li")
    assert len(items) == 2
    for item in items:
        assert item.time.get_text() == item.time["datetime"]
        assert len(item.time.get_text()) == 10 and item.time.get_text()[4] == "-"
    assert "草稿" not in text and "定时发布" not in text
    # honest blocks, no invented figures
    assert "暂无已认定的核心服务机构名单" in text
    assert "暂无调度数据" in text


def test_home_page_shows_the_latest_seven_notices(client, app_ctx):
    from tests.portal.conftest import add_notice

    for n in range(9):
        add_notice(f"第{n}号通知", days_ago=n + 1)
    soup = page(client.get("/"))
    column = soup.find("h2", string="通知公告").find_parent("section")
    titles = [a.get_text() for a in column.select("ul.news a")]
    assert titles == [f"第{n}号通知" for n in range(7)]


def test_home_page_headline_and_columns_from_one_read(client, app_ctx):
    """The headline may be a 工作动态 and stays in its column too; a pinned notice not yet due is
    no headline; each column is newest first."""
    from tests.portal.conftest import add_notice

    add_notice("明天置顶的通知", pinned=True, days_ago=-1)
    add_notice("置顶的工作动态", category="工作动态", pinned=True, days_ago=3)
    add_notice("同日较早录入", days_ago=2)
    add_notice("同日较晚录入", days_ago=2)
    add_notice("最新工作动态", category="工作动态", days_ago=1)
    soup = page(client.get("/"))
    assert soup.select_one(".headline a").get_text() == "置顶的工作动态"
    columns = {h2.get_text(): h2.find_parent("section") for h2 in soup.select("section h2")}
    assert [a.get_text() for a in columns["通知公告"].select("ul.news a")] == ["同日较晚录入", "同日较早录入"]
    assert [a.get_text() for a in columns["工作动态"].select("ul.news a")] == ["最新工作动态", "置顶的工作动态"]


def test_home_page_without_news_or_headline(client):
    soup = page(client.get("/"))
    assert soup.select_one(".headline") is None
    assert soup.find("h2", string="工作动态") is None
    assert "暂无通知公告" in text_of(soup)


def test_contact_page(client):
    text = text_of(page(client.get("/contact")))
    for expected in (
        "省中小企业服务中心",
        "0731-89706287",
        "系统问题",
        "0731-89706283",
        "填报问题",
        "工作日 上午 8:30-12:00 下午 14:30-17:30",
    ):
        assert expected in text
    assert page(client.get("/contact")).find("a", href="/help")


def test_help_page(client):
    soup = page(client.get("/help"))
    headings = [h.get_text() for h in soup.find_all("h2")]
    assert len(headings) == 5
    assert headings[0].startswith("（1）用户无法打开") and headings[4].startswith("（5）上传附件")
    text = text_of(soup)
    assert "备注" in text and "0731-89706287" in text and "0731-89706283" in text
    assert soup.find("a", string="手机号变更申诉")


def test_a_module_replaces_a_home_block_in_place(app, client, app_ctx, monkeypatch):
    from app.blueprints.portal import services
    from tests.helpers import with_module

    with_module(
        app,
        monkeypatch,
        home_blocks=(
            (
                "awards",
                lambda: services.HomeBlock(
                    "优秀评选",
                    "/excellent/institutions",
                    "无",
                    figures=[("优秀服务机构", 12, "家")],
                    items=[("2025年度名单", "/excellent/institutions")],
                ),
            ),
        ),
    )
    soup = page(client.get("/"))
    titles = [h.get_text() for h in soup.select(".home-sections h2")]
    assert titles == ["核心服务机构", "优秀评选", "调度大数据"]
    block = soup.find("h2", string="优秀评选").find_parent("section")
    assert "12" in block.select_one(".stat b").get_text() and block.find("a", string="2025年度名单")


def test_home_page_budget(client, app_ctx):
    """One request, no script needed: the 首页 HTML with a full news column stays small."""
    from tests.portal.conftest import add_notice

    for n in range(10):
        add_notice("关于组织开展2024年湖南省中小微企业核心服务机构认定工作的通知" + str(n), days_ago=n + 1)
        add_notice("全省中小企业数字化转型城市试点工作推进会召开" + str(n), category="工作动态", days_ago=n + 1)
    response = client.get("/")
    import gzip

    assert len(gzip.compress(response.data)) < 12 * 1024
