"""The 区县 options fragment behind the region selects."""

from tests.helpers import page


def _options(soup):
    return [(o["value"], o.get_text()) for o in soup.find_all("option")]


def test_counties_of_a_city(client):
    soup = page(client.get("/regions/counties?city_code=430100"), fragment=True)
    options = _options(soup)
    assert options[0] == ("", "请选择区县")
    assert ("430102", "芙蓉区") in options
    assert ("430104", "岳麓区") in options
    assert all(code.startswith("4301") for code, _ in options[1:])
    assert soup.find("body") is None


def test_htmx_request_gets_the_same_fragment(client):
    response = client.get("/regions/counties?city_code=430200", headers={"HX-Request": "true"})
    options = _options(page(response, fragment=True))
    assert options[0] == ("", "请选择区县")
    assert all(code.startswith("4302") for code, _ in options[1:]) and len(options) > 1


def test_empty_or_unknown_city_lists_every_county_with_its_city(client):
    for query in ("", "?city_code=", "?city_code=999999", "?city_code=430102"):
        options = _options(page(client.get("/regions/counties" + query), fragment=True))
        assert options[0] == ("", "请选择区县")
        assert len(options) == 123  # 122 区县 + the prompt
        assert ("430102", "长沙市 芙蓉区") in options
