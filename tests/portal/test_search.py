"""搜索: Chinese substrings in published notices; what a user types is taken literally."""

from app.blueprints.portal.services import like_pattern
from tests.factories import make_expert, make_institution
from tests.helpers import page, text_of
from tests.portal.conftest import add_notice


def _titles(soup):
    return [a.get_text() for a in soup.select(".search-group ul.news a")]


def test_chinese_substring_finds_published_notices(client, notices):
    soup = page(client.get("/search", query_string={"q": "核心服务"}))
    titles = _titles(soup)
    assert sorted(titles) == sorted([notices["pinned"].title, notices["report"].title])
    text = text_of(soup)
    assert "通知公告（共 2 条）" in text
    assert "草稿" not in text and "定时发布" not in text
    assert "搜索范围" in text


def test_body_is_searched_too(client, app_ctx):
    add_notice("标题无关", body="请各市州工信局于月底前完成填报。")
    assert _titles(page(client.get("/search?q=工信局"))) == ["标题无关"]


def test_empty_query_prompts(client, notices):
    text = text_of(page(client.get("/search?q=%20%20")))
    assert "请输入要搜索的关键词" in text
    assert "共" not in text.split("搜索范围")[1]


def test_no_results_message(client, notices):
    text = text_of(page(client.get("/search?q=不存在的词")))
    assert "未找到与“不存在的词”相关的内容" in text


def test_like_wildcards_are_literal(client, app_ctx):
    add_notice("完成率100%的通知")
    add_notice("完成率1000的通知")
    add_notice("file_name 说明")
    add_notice("filexname 说明")
    assert _titles(page(client.get("/search", query_string={"q": "100%"}))) == ["完成率100%的通知"]
    assert _titles(page(client.get("/search", query_string={"q": "%"}))) == ["完成率100%的通知"]
    assert _titles(page(client.get("/search", query_string={"q": "file_"}))) == ["file_name 说明"]
    assert "未找到" in text_of(page(client.get("/search", query_string={"q": "\\"})))


def test_like_pattern_escapes():
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_institutions_and_experts_are_not_public_yet(client, app_ctx):
    institution = make_institution(name="长沙核心服务有限公司")
    expert = make_expert()
    for q in ("长沙核心服务有限公司", expert.expert.name):
        text = text_of(page(client.get("/search", query_string={"q": q})))
        assert "未找到" in text
    assert institution.institution.name


def test_query_is_kept_in_the_search_box(client):
    soup = page(client.get("/search?q=融资"))
    assert soup.find("input", id="search-q")["value"] == "融资"
    assert soup.find("input", id="nav-q")["value"] == "融资"


def _groups(soup):
    return {
        h.get_text(): [a.get_text() for a in h.find_parent("section").select("ul a")]
        for h in soup.select(".search-group h2")
    }


def test_grouped_by_kind_with_counts(client, app_ctx):
    from tests.portal.conftest import offer, recognise

    add_notice("关于征集全省中小企业融资促进案例的通知")
    add_notice("融资担保业务培训", category="工作动态")
    add_notice("草稿：融资担保", published=False)
    guarantee = make_institution(name="湖南省融资担保服务中心")
    recognise(guarantee)
    offered = make_institution(name="长沙金融服务站")
    offer(offered, "融资服务")
    recognise(offered)
    expired = make_institution(name="过期的融资担保公司")
    recognise(expired, start=2010, end=2013)
    soup = page(client.get("/search", query_string={"q": "融资"}))
    groups = _groups(soup)
    assert sorted(groups["通知公告（共 2 条）"]) == sorted(
        ["关于征集全省中小企业融资促进案例的通知", "融资担保业务培训"]
    )
    assert sorted(groups["核心服务机构（共 2 家）"]) == sorted(["湖南省融资担保服务中心", "长沙金融服务站"])
    summary = text_of(soup.select_one(".search-summary"))
    assert "通知公告 2 条" in summary and "核心服务机构 2 家" in summary
    # 融资 finds 融资担保 (a substring), and the longer word narrows it
    groups = _groups(page(client.get("/search", query_string={"q": "融资担保"})))
    assert groups == {
        "通知公告（共 1 条）": ["融资担保业务培训"],
        "核心服务机构（共 1 家）": ["湖南省融资担保服务中心"],
    }


def test_one_kind_shows_more(client, app_ctx):
    for n in range(12):
        add_notice(f"数字化转型通知{n:02d}", days_ago=n + 1)
    soup = page(client.get("/search", query_string={"q": "数字化转型"}))
    [(heading, titles)] = _groups(soup).items()
    assert heading == "通知公告（共 12 条）" and len(titles) == 10
    more = soup.find("a", string=lambda s: s and s.startswith("查看全部 12 条"))
    soup = page(client.get(more["href"]))
    [(heading, titles)] = _groups(soup).items()
    assert len(titles) == 12
    assert soup.find("a", string="查看全部类别") is not None


def test_declared_sources_join_the_search(app, client, app_ctx, monkeypatch):
    from app.blueprints.portal import services
    from tests.helpers import with_module

    found = add_notice("融资产品说明")
    with_module(
        app,
        monkeypatch,
        search_sources=(
            services.SearchSource(
                "products",
                "优秀服务产品",
                "测试产品",
                lambda pattern, limit: (1, [found]),
                "portal/_partials/_search_notices.html",
                "项",
            ),
        ),
    )
    soup = page(client.get("/search", query_string={"q": "融资"}))
    assert "优秀服务产品（共 1 项）" in _groups(soup)
    assert "优秀服务产品在名单公布后纳入搜索" not in text_of(soup)


def test_latin_letters_ignore_case(client, app_ctx):
    add_notice("ISO 9001 质量管理体系认证培训")
    assert _titles(page(client.get("/search", query_string={"q": "iso 9001"}))) == ["ISO 9001 质量管理体系认证培训"]
    assert _titles(page(client.get("/search", query_string={"q": "质量管理"}))) == ["ISO 9001 质量管理体系认证培训"]
