"""评审排名 导出Excel (issue 14, item 7): the page's table in the page's order, each reviewer's total
and the mean, A4 landscape with the header repeated; text stays text; reviewers named as the same
user sees them on the page."""

import io
from types import SimpleNamespace
from urllib.parse import quote

from openpyxl import load_workbook

from app.blueprints.awards import reviews
from tests.awards.conftest import _who, expert_at, make_nomination
from tests.awards.test_judging import assignment_id, logout, score
from tests.helpers import login, page
from tests.spreadsheet_checks import NASTY, cells, formulas_in


def scored_round(client, app, people):
    with app.app_context():
        first, second = (_who(expert_at(f"{n}大学", reviewer=True, name=f"评审{n}")) for n in ("甲", "乙"))
        strong = make_nomination("product", people.institution.id, people.round_id, product_name="甲产品")
        weak = make_nomination("product", people.other_institution.id, people.round_id, product_name=NASTY[0])
        unscored = make_nomination("product", people.other_institution.id, people.round_id, product_name="+1+1")
    login(client, people.province.username)
    for nomination in (strong, weak, unscored):
        for reviewer in (first, second):
            client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer.id})
    logout(client)
    for reviewer, marks in ((first, {strong: 90, weak: 60}), (second, {strong: 80})):
        login(client, reviewer.username)
        for nomination, mark in marks.items():
            score(
                client,
                app,
                assignment_id(app, nomination, reviewer.id),
                [mark] * 4,
                people.round_id,
                "product_nomination",
            )
        logout(client)
    return strong, weak, unscored


def screen_rows(client, query):
    soup = page(client.get(f"/awards/admin/products/ranking{query}"))
    return soup, [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.select("table.ranking tbody tr")
    ]


def test_the_export_is_the_screen_in_its_order(client, app, people):
    scored_round(client, app, people)
    login(client, people.province.username)
    for query in (f"?round_id={people.round_id}", f"?round_id={people.round_id}&sort=name&dir=asc"):
        soup, rows = screen_rows(client, query)
        link = soup.find("a", string="导出Excel")["href"]
        assert link.startswith("/awards/admin/products/ranking.xlsx?") and f"round_id={people.round_id}" in link
        response = client.get(link)
        assert response.status_code == 200
        assert quote("优秀服务产品评审排名.xlsx") in response.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.data)).active
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        title, header, body = values[0], values[1], values[2:]
        assert "2026年度优秀评选 优秀服务产品评审排名" in title[0]
        assert header == [
            "排名",
            "名称",
            "所在地区",
            "评审专家1",
            "总分1",
            "评审专家2",
            "总分2",
            "加权平均分",
            "评分数",
            "已分配",
            "极差",
            "评选结果",
        ]
        # same rows, same order, same figures as on screen
        assert [row[1] for row in body] == [row[1] for row in rows]
        for on_screen, exported in zip(rows, body):
            assert (str(exported[0]) if exported[0] else "—") == on_screen[0]
            mean = f"{exported[7]:.2f}" if exported[7] is not None else "—"
            assert mean == on_screen[4] and f"{exported[8]} / {exported[9]}" == on_screen[5]
    by_name = {row[1]: row for row in body}
    assert by_name["甲产品"][3:8] == ["评审甲", 90.0, "评审乙", 80.0, 85.0]
    assert by_name[NASTY[0]][3:7] == ["评审甲", 60.0, "评审乙（未评分）", None]
    assert by_name["+1+1"][7] is None and by_name["+1+1"][11] == "未定"
    # print set-up: A4 landscape, one page wide, title and header repeated
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows in ("1:2", "$1:$2")
    # what applicants typed stays text
    assert formulas_in(response.data) == []
    assert cells(response.data)[NASTY[0]] == "s" and cells(response.data)["+1+1"] == "s"


def test_reviewers_are_named_as_the_viewer_sees_them(client, app, people):
    scored_round(client, app, people)
    login(client, people.province.username)
    _, rows = screen_rows(client, f"?round_id={people.round_id}&sort=name&dir=asc")
    response = client.get(f"/awards/admin/products/ranking.xlsx?round_id={people.round_id}&sort=name&dir=asc")
    body = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(response.data)).active.iter_rows()][2:]
    for on_screen, exported in zip(rows, body):
        assert [part.split()[0] for part in on_screen[3].split("；")] == [
            exported[3].split("（")[0],
            exported[5].split("（")[0],
        ]
    # anyone but the province admin would see 专家1, 专家2 (as reviewers see their peers)
    with app.test_request_context():
        from app.blueprints.awards.services import award_round
        from app.blueprints.awards.wizard import BY_SLUG

        round = award_round(people.round_id)
        for viewer, expected in ((SimpleNamespace(role="expert"), ["专家1", "专家2"]), (None, ["专家1", "专家2"])):
            ranked = reviews.ranking(round=round, wizard=BY_SLUG["products"], viewer=viewer)
            assert {tuple(r.label for r in row.reviewers) for row in ranked} == {tuple(expected)}
    logout(client)
    login(client, people.city.username)
    assert client.get(f"/awards/admin/products/ranking.xlsx?round_id={people.round_id}").status_code == 403
