"""What changed (issue 14, item 5): a resubmission after 退回 shows the reviewer each changed field,
old and new, and what the last 退回 pointed at."""

from tests.helpers import login, page, text_of
from tests.reports.conftest import people  # noqa: F401  (the fixture)
from tests.reports.test_flow import fill, new_report, upload_and_submit


def test_a_resubmission_shows_what_changed_since_the_last_submission(client, people):  # noqa: F811
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id, service_assets="1200.50")
    assert upload_and_submit(client, report_id).status_code == 303

    login(client, people.city.username)
    first_review = text_of(page(client.get(f"/reports/{report_id}/review")))
    assert "自上次提交以来的修改" not in first_review  # a first submission has nothing to compare
    returned = client.post(
        f"/reports/{report_id}/review",
        data={"action": "return", "comment": "服务资产与上月差异较大，请核实", "pinned": ["service_assets"]},
    )
    assert returned.status_code == 303

    login(client, people.institution.username)
    fill(client, people, report_id, service_assets="1180.00", staff_count="21", bachelor_count="12")
    assert client.post(f"/reports/{report_id}/submit").status_code == 303

    login(client, people.city.username)
    soup = page(client.get(f"/reports/{report_id}/review"))
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in soup.select("#changes tbody tr")]
    assert any(row[1].startswith("1,200.50") and row[2].startswith("1,180.00") for row in rows), rows
    assert any(row[1].startswith("20") and row[2].startswith("21") for row in rows), rows
    assert len(rows) == 2
    text = text_of(soup)
    assert "上次退回意见" in text and "服务资产与上月差异较大，请核实" in text
    assert soup.select("dd.pinned")  # the field pinned last time is marked again
