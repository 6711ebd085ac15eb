"""One institution's filings as an admin sees them (the 机构详情 page): each row with its status and
the links the admin may follow. Drafts are listed (an admin should know one is started) but not
linked: their 查看 and 审核 pages stay private to the owner."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import has_request_context, request, url_for
from sqlalchemy.orm import joinedload, with_polymorphic

from app.extensions import db
from app.filings import services, workflow
from app.filings.models import Filing


@dataclass
class FilingLinks:
    show: str | None  # 查看
    review: str | None  # 审核, while the filing waits for a decision this admin may make


@dataclass
class FilingRow:
    filing: Filing
    wizard: object
    links: FilingLinks

    @property
    def status_label(self):
        return self.wizard.status_label(self.filing.status)

    @property
    def status_css(self):
        return workflow.STATUS_CSS.get(self.filing.status, "status")


def filing_links(wizard, filing, viewer):
    """查看 for a filing past its draft in the viewer's scope, 审核 while the viewer may decide on it
    (no query: the decisions follow from the status and the viewer's level)."""
    if filing.status == workflow.DRAFT or not in_scope(filing, viewer):
        return FilingLinks(None, None)
    show = url_for(wizard.endpoints.show, filing_id=filing.id)
    actions = services.review_actions(wizard=wizard, filing=filing, user=viewer)
    return FilingLinks(show, url_for(wizard.endpoints.review, filing_id=filing.id) if actions else None)


def in_scope(filing, viewer):
    """Whether the filing lies in the reviewer's scope, as ``services.review_scope`` selects it."""
    if viewer.role == "province_admin":
        return True
    return viewer.role == "city_admin" and filing.city_code == viewer.city_code


def scope_criteria(viewer):
    """SQL form of ``in_scope``, drafts included (they are listed, unlinked)."""
    if viewer.role == "province_admin":
        return sa.true()
    if viewer.role == "city_admin":
        return Filing.city_code == viewer.city_code
    return sa.false()


def institution_filings(*, wizards, institution_id, viewer):
    """The institution's filings of these kinds in the viewer's scope, newest first, with their links."""
    by_kind = {wizard.model.__mapper__.polymorphic_identity: wizard for wizard in wizards}
    return [
        FilingRow(filing, by_kind[filing.kind], filing_links(by_kind[filing.kind], filing, viewer))
        for filing in all_filings(institution_id, viewer)
        if filing.kind in by_kind
    ]


def all_filings(institution_id, viewer):
    """Every filing of the institution in the viewer's scope, of every kind, newest first: one query
    (each kind's columns joined in, with the round), read once per request however many modules'
    sections ask (an institution has a few dozen filings: a year of monthly reports and a few more)."""
    key = (institution_id, viewer.id)
    kept = getattr(request, "_institution_filings", None) if has_request_context() else None
    if kept is not None and kept[0] == key:
        return kept[1]
    kinds = with_polymorphic(Filing, "*")
    rows = db.session.scalars(
        sa.select(kinds)
        .where(kinds.institution_id == institution_id, scope_criteria(viewer))
        .options(joinedload(kinds.round))
        .order_by(kinds.created_at.desc(), kinds.id.desc())
    ).all()
    if has_request_context():
        request._institution_filings = (key, rows)
    return rows
