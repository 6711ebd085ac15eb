"""The awards module's section of the admins' 机构详情 page: its 优秀评选 nominations of every kind."""

from app.blueprints.awards.wizard import WIZARDS
from app.filings.overview import institution_filings
from app.modules import AdminSection


def sections(institution, *, viewer, args):
    """优秀评选申报: the institution's nominations (机构, 产品, 专家) with status and links (one query)."""
    rows = institution_filings(wizards=WIZARDS, institution_id=institution.id, viewer=viewer)
    return [
        AdminSection(
            "awards",
            "优秀评选申报",
            "filings/_partials/_institution_filings.html",
            {"rows": rows, "round_header": "评选年度", "show_name": True, "empty": "该机构没有优秀评选申报记录。"},
        )
    ]
