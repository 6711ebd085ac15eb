"""Attachments per filing: quotas, and the same file kept once (a double-clicked 上传)."""

import sqlalchemy as sa

from app.extensions import db
from app.filings.models import Attachment


def test_per_filing_quotas_hold_and_say_why(client, app, app_ctx, people, monkeypatch):
    """FILING_MAX_FILES and FILING_MAX_BYTES (30 files / 500 MB by default; scaled down here)."""
    import io

    from tests.applications.test_flow import fill_steps, new_draft
    from tests.helpers import login

    monkeypatch.setitem(app.config, "FILING_MAX_FILES", 3)
    monkeypatch.setitem(app.config, "FILING_MAX_BYTES", 3000)
    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    files = [(io.BytesIO(b"%PDF-" + bytes([65 + n]) * 900), f"材料{n}.pdf") for n in range(5)]
    response = client.post(
        f"/applications/{filing_id}/attachments",
        data={"files": files},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert text.count("已上传：") == 3 and "每份填报最多上传 3 个附件" in text
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id)).where(Attachment.filing_id == filing_id)) == 3
    monkeypatch.setitem(app.config, "FILING_MAX_FILES", 30)
    big = (io.BytesIO(b"%PDF-" + b"Z" * 2000), "大材料.pdf")
    text = client.post(
        f"/applications/{filing_id}/attachments",
        data={"files": [big]},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "附件合计不超过" in text
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id)).where(Attachment.filing_id == filing_id)) == 3


def test_the_same_file_twice_is_kept_once_and_a_copy_under_another_name_is_named(client, app, app_ctx, people):
    import io

    from tests.applications.test_flow import fill_steps, new_draft
    from tests.helpers import login

    login(client, people.institution.username)
    filing_id = new_draft(client)
    fill_steps(client, filing_id)
    body = b"%PDF-1.4 same"
    for name in ("证明.pdf", "证明.pdf"):
        response = client.post(
            f"/applications/{filing_id}/attachments",
            data={"files": [(io.BytesIO(body), name)]},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303
    text = client.post(
        f"/applications/{filing_id}/attachments",
        data={"files": [(io.BytesIO(body), "副本.pdf")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "“副本.pdf”与已上传的“证明.pdf”内容相同，未重复保存" in text
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id)).where(Attachment.filing_id == filing_id)) == 1
