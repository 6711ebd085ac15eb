"""The 调度 step with odd numbers: Chinese messages beside the fields, input kept, no 500 (issue 13 item 7)."""

from tests.helpers import login, page, text_of
from tests.reports.test_flow import new_report


def test_odd_counts_are_explained_in_chinese(client, people):
    login(client, people.institution.username)
    report_id = new_report(client)
    policy = people.cat["政策服务"]
    data = people.data(
        staff_count="²",
        bachelor_count="99999999999999999999",
        revenue="99999999999999999999",
        anomaly_note="人员\x0b变动",
        **{f"cat{policy}_activities": "１２", f"cat{policy}_served": "1e5"},
    )
    soup = page(client.post(f"/reports/{report_id}/step/basic", data=data), status=422)
    text = text_of(soup)
    assert "请输入整数" in text and "数值过大" in text
    assert "invalid literal" not in text and "Not a valid" not in text
    assert soup.find("input", {"name": "staff_count"})["value"] == "²"  # what was typed stays
    assert soup.find("input", {"name": f"cat{policy}_activities"})["value"] == "１２"
