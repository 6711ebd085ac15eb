"""Notice bodies: Markdown in, sanitised HTML out — no script, event handler or javascript: link survives."""

import pytest
from bs4 import BeautifulSoup

from app.blueprints.portal.markup import markdown_html

ATTACKS = [
    "<script>alert('x')</script>正文",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>正文",
    "<img src=x onerror=alert(1)>正文",
    "<p onclick=\"alert(1)\" onmouseover='alert(2)'>正文</p>",
    "<svg onload=alert(1)><circle r=1 /></svg>正文",
    '<iframe src="javascript:alert(1)"></iframe>正文',
    '<a href="javascript:alert(1)">正文</a>',
    '<a href="JaVaScRiPt:alert(1)">正文</a>',
    '<a href="&#106;avascript:alert(1)">正文</a>',
    '<a href=" javascript:alert(1)">正文</a>',
    "[正文](javascript:alert(1))",
    "[正文](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<style>body{display:none}</style>正文",
    '<form action="https://evil.example"><input name=x></form>正文',
    '<div style="position:fixed">正文</div>',
    '<object data="x.swf"></object><embed src="x.swf">正文',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>正文',
]


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_executable_survives(text):
    html = str(markdown_html(text))
    soup = BeautifulSoup(html, "html.parser")
    assert "正文" in soup.get_text()
    for tag in soup.find_all(True):
        assert tag.name not in {"script", "style", "iframe", "img", "svg", "object", "embed", "form", "input", "math"}
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (tag, name)
            assert name in {"href", "title", "rel", "start", "colspan", "rowspan"}, (tag, name)
            if name == "href":
                assert value.split(":")[0].strip().lower() in {"http", "https", "mailto", "tel"} or value.startswith(
                    "/"
                ), value
    assert "alert" not in html.replace("alert(1)</a>", "")  # no handler text left in attributes


def test_script_content_is_removed_not_shown():
    assert str(markdown_html("<script>alert(1)</script>")) == ""


def test_ordinary_markdown_is_kept():
    soup = BeautifulSoup(
        str(
            markdown_html(
                "# 一、通知事项\n\n请各市州**按时**报送。\n第二行\n\n1. 甲\n2. 乙\n\n"
                "| 市州 | 数量 |\n|---|---|\n| 长沙市 | 12 |\n\n"
                "[申报系统](https://www.smehn.cn/) [本站通知](/notices/1) [邮件](mailto:a@example.com)"
            )
        ),
        "html.parser",
    )
    assert soup.h2.get_text() == "一、通知事项"
    assert soup.strong.get_text() == "按时"
    assert soup.br is not None
    assert [li.get_text() for li in soup.ol.find_all("li")] == ["甲", "乙"]
    assert [td.get_text() for td in soup.find_all("td")] == ["长沙市", "12"]
    links = {a.get_text(): a for a in soup.find_all("a")}
    assert links["申报系统"]["href"] == "https://www.smehn.cn/"
    assert links["本站通知"]["href"] == "/notices/1"
    assert links["邮件"]["href"] == "mailto:a@example.com"
    assert "noopener" in links["申报系统"]["rel"]


def test_empty_body():
    assert str(markdown_html("")) == "" and str(markdown_html("  \n ")) == ""
