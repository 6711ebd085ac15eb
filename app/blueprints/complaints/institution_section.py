"""The complaints module's section of the admins' 机构详情 page: 企业投诉 naming the institution.

A complaint names its 被投诉方 in free text (the public form has no institution picker), so a
complaint is "against" the institution when its 单位名称 is the institution's name, as typed
(the form trims spaces). The viewer sees what the 投诉列表 shows them: a city admin only the
complaints transferred to its 市州."""

import sqlalchemy as sa

from app.blueprints.auth.models import Institution
from app.blueprints.complaints.handling import _scope as visible_to
from app.blueprints.complaints.handling import deadline
from app.blueprints.complaints.models import Complaint
from app.extensions import db
from app.modules import AdminSection


def institution_named(name, *, viewer):
    """The id of the institution a complaint's 被投诉方 names (by the same rule as the section), for
    a link to its 机构详情; None when there is none, or it lies outside a city admin's 市州."""
    select = sa.select(Institution.id).where(Institution.name == name)
    if viewer.role == "city_admin":
        select = select.where(Institution.city_code == viewer.city_code)
    return db.session.scalar(select.order_by(Institution.id).limit(1))


def sections(institution, *, viewer, args):
    """企业投诉: newest first, each with its status and 办理期限 (one query)."""
    complaints = db.session.scalars(
        visible_to(sa.select(Complaint), viewer)
        .where(Complaint.respondent_name == institution.name)
        .order_by(Complaint.registered_at.desc(), Complaint.id.desc())
    ).all()
    return [
        AdminSection(
            "complaints",
            "企业投诉",
            "complaints/_partials/_institution_complaints.html",
            {"complaints": [(complaint, deadline(complaint)) for complaint in complaints]},
        )
    ]
