"""机构详情 for admins: one page per 服务机构 with everything the system holds about it.

The page shows the institution's 基本资料, its account and its 操作日志 events (this module's
own); every other module adds its sections through ``admin_institution_sections`` in its
``Module`` declaration (app/modules.py): a provider(institution, *, viewer, args) returns
``AdminSection`` items, each rendered with the module's own partial, in the modules' order. So
this page knows nothing of reports, complaints or awards.

A city admin opens the institutions of its own 市州 only; any other id is a 404.
"""

import sqlalchemy as sa
from flask import abort, current_app, request, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import SelectPagination
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from app.access import roles
from app.audit import AuditLog
from app.blueprints.admin import bp
from app.blueprints.auth.models import Institution
from app.extensions import db
from app.htmx import render
from app.inputs import db_int
from app.modules import wiring


def institution_for_viewer(*, viewer, institution_id):
    """The institution with its account and reference data (one query), or None when it does not
    exist or lies outside a city admin's 市州."""
    select = sa.select(Institution).where(Institution.id == institution_id)
    if viewer.role == "city_admin":
        select = select.where(Institution.city_code == viewer.city_code)
    elif viewer.role != "province_admin":
        return None
    return (
        db.session.scalars(
            select.options(
                joinedload(Institution.user),
                joinedload(Institution.unit_nature),
                joinedload(Institution.institution_type),
                joinedload(Institution.platform),
                joinedload(Institution.service_categories),
            )
        )
        .unique()
        .one_or_none()
    )


class CountedPagination(SelectPagination):
    """A page and the total in one statement (``COUNT(*) OVER ()`` on each row); the total is
    counted on its own only for a page past the end."""

    def _query_items(self):
        select = self._query_args["select"].add_columns(sa.func.count().over().label("total"))
        rows = self._query_args["session"].execute(select.limit(self.per_page).offset(self._query_offset)).all()
        self._total = rows[0].total if rows else (0 if self._query_offset == 0 else None)
        return [row[0] for row in rows]

    def _query_count(self):
        return self._total if self._total is not None else super()._query_count()


def institution_audit(institution_id, *, page, per_page):
    """The 操作日志 entries concerning the institution, newest first. A page number past the end
    shows the last page, as every pager does (app/utils.paginate)."""
    select = (
        sa.select(AuditLog)
        .where(AuditLog.institution_id == institution_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    )
    args = dict(select=select, session=db.session, per_page=per_page, max_per_page=None, error_out=False)
    result = CountedPagination(page=max(page, 1), **args)
    if not result.items and result.total:
        return CountedPagination(page=result.pages, **args)
    return result


def module_sections(institution, *, viewer, args):
    """Every module's ``AdminSection`` items for the institution, in the modules' order."""
    return [
        section
        for provider in wiring().admin_institution_sections
        for section in provider(institution, viewer=viewer, args=args) or ()
    ]


@pass_context
def render_section(context, section):
    """A section's partial, rendered with the page's context and the section's own (the page's
    context processors are not run again for it)."""
    template = context.environment.get_template(section.template)
    return Markup(template.render({**context.get_all(), **section.context}))


@bp.route("/institutions/<int:institution_id>")
@roles("province_admin", "city_admin")
def show_institution(institution_id):
    """机构详情. 404 when the institution does not exist or is outside a city admin's 市州; a bad
    ``year`` or ``page`` shows the default (the last 12 months, the first page)."""
    institution = institution_for_viewer(viewer=current_user, institution_id=institution_id)
    if institution is None:
        abort(404)
    audit_page = None
    if current_user.role == "province_admin":  # the 操作日志 is the province's (as its page is)
        audit_page = institution_audit(
            institution.id,
            page=request.args.get("page", 1, type=db_int),
            per_page=current_app.config["PAGE_SIZE"],
        )
    return render(
        "admin/institution.html",
        institution=institution,
        sections=module_sections(institution, viewer=current_user, args=request.args),
        render_section=render_section,
        audit_page=audit_page,
        breadcrumb=[("系统管理", url_for("admin.home")), ("机构详情", None), (institution.name, None)],
    )
