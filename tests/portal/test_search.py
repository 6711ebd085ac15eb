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
