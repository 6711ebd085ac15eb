"""What changed, the institution's side (issue 14, item 5): while the owner edits a returned
filing, every step page lists what the 退回 pinned (with its comment) and what the owner has changed
since, old -> new; after resubmitting, the reviewer reads the same list (one function,
services.filing_revision)."""

import sqlalchemy as sa

from app.extensions import db
from app.filings.models import Attachment
from tests.helpers import login, page, text_of
from tests.reports.conftest import people  # noqa: F401  (the fixture)
from tests.reports.test_flow import fill, new_report, upload_and_submit


def revision_rows(soup):
    return [[td.get_text(strip=True) for td in tr.select("td")] for tr in soup.select("#revision #changes tbody tr")]


def pinned_items(soup):
    return [li.get_text(" ", strip=True) for li in soup.select("#revision .pinned-list li")]


def test_the_owner_sees_what_was_pinned_and_what_changed_on_every_step(client, app_ctx, people):  # noqa: F811
    login(client, people.institution.username)
    report_id = new_report(client)
    fill(client, people, report_id, service_assets="1200.50")
    assert upload_and_submit(client, report_id).status_code == 303
    attachment_id = db.session.scalar(sa.select(Attachment.id).where(Attachment.filing_id == report_id))

    login(client, people.city.username)
    returned = client.post(
        f"/reports/{report_id}/review",
        data={
            "action": "return",
            "comment": "服务资产与上月差异较大，请核实",
            "pinned": ["service_assets", f"attachment:{attachment_id}"],
        },
    )
    assert returned.status_code == 303

    login(client, people.institution.username)
    step = page(client.get(f"/reports/{report_id}/step/basic"))
    text = text_of(step.select_one("#revision"))
    assert "审核退回意见： 服务资产与上月差异较大，请核实" in text
    items = pinned_items(step)
    assert items == ["基本信息：服务资产 未修改", "附件：工作总结.pdf 未修改"], items
    links = [a["href"] for a in step.select("#revision .pinned-list a")]
    assert links == [f"/reports/{report_id}/step/basic", f"/reports/{report_id}/attachments"]
    assert "退回后您尚未修改任何项目" in text and not revision_rows(step)

    # 保存草稿 with two fields changed: the step (page and htmx fragment) lists them, old -> new
    data = people.data(service_assets="1180.00", staff_count="21", bachelor_count="12", save_draft="1")
    assert client.post(f"/reports/{report_id}/step/basic", data=data).status_code == 303
    step = page(client.get(f"/reports/{report_id}/step/basic"))
    rows = revision_rows(step)
    assert len(rows) == 2, rows
    assert any(r[1].startswith("1,200.50") and r[2].startswith("1,180.00") for r in rows), rows
    assert pinned_items(step)[0] == "基本信息：服务资产 已修改"
    assert "退回后您已修改的项目（2 项）" in text_of(step)
    fragment = page(client.get(f"/reports/{report_id}/step/basic", headers={"HX-Request": "true"}), fragment=True)
    assert revision_rows(fragment) == rows
    # the attachment step shows the same list
    attachments = page(client.get(f"/reports/{report_id}/attachments"))
    assert revision_rows(attachments) == rows
    assert pinned_items(attachments)[1] == "附件：工作总结.pdf 未修改"

    # resubmitted: the reviewer reads the same changes, and what the 退回 pinned
    assert client.post(f"/reports/{report_id}/submit").status_code == 303
    login(client, people.city.username)
    review = page(client.get(f"/reports/{report_id}/review"))
    assert revision_rows(review) == rows
    assert "自上次提交以来的修改（2 项）" in text_of(review)
    assert "上次退回意见： 服务资产与上月差异较大，请核实" in text_of(review)
    assert pinned_items(review) == ["基本信息：服务资产 已修改", "附件：工作总结.pdf 未修改"]
    # the owner's own list is gone once the filing waits for review again
    login(client, people.institution.username)
    assert page(client.get(f"/reports/{report_id}")).select_one("#revision") is None


def test_a_first_submission_has_no_revision_list(client, people):  # noqa: F811
    login(client, people.institution.username)
    report_id = new_report(client)
    assert page(client.get(f"/reports/{report_id}/step/basic")).select_one("#revision") is None
    fill(client, people, report_id)
    assert upload_and_submit(client, report_id).status_code == 303
    login(client, people.city.username)
    assert page(client.get(f"/reports/{report_id}/review")).select_one("#revision") is None
