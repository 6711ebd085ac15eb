"""Portal: the public pages (首页, 通知公告, 核心服务机构, the other lists, 搜索, 联系我们, 答疑, 入口)."""

from io import BytesIO

from flask import abort, redirect, render_template, request, send_file
from flask_login import current_user

from app.access import public
from app.blueprints.portal import bp, directory, notices, services
from app.blueprints.portal.forms import DirectoryFilterForm
from app.blueprints.portal.manual import DOWNLOAD_NAME, manual_docx
from app.blueprints.portal.models import NOTICE_CATEGORIES
from app.cache import AWARDS, BIG_DATA, DIRECTORY, NOTICES, REFERENCE, TOPICS, public_page
from app.filings.attachments import attachment_response
from app.htmx import render
from app.inputs import db_int, year_int


def _page_arg():
    return request.args.get("page", 1, type=db_int) or 1


@bp.route("/")
@public
@public_page(*TOPICS)
def index():
    """首页. No error cases."""
    return render("portal/index.html", **services.home_page())


@bp.route("/notices")
@public
@public_page(NOTICES)
def list_notices():
    """通知公告 / 工作动态 list; an unknown category shows all."""
    category = request.args.get("category", "")
    if category not in NOTICE_CATEGORIES:
        category = ""
    page = services.notice_list(category=category or None, page=_page_arg())
    return render("portal/notices.html", page=page, category=category, categories=NOTICE_CATEGORIES)


@bp.route("/notices/<int:notice_id>")
@public
@public_page(NOTICES)
def show_notice(notice_id):
    """One notice; 404 when it does not exist, or is unpublished or scheduled (except to the province
    admins who manage notices, who see it marked)."""
    notice = notices.notice_for_reader(notice_id=notice_id, user=current_user)
    if notice is None:
        abort(404)
    return render("portal/notice.html", **services.notice_page(notice=notice))


@bp.route("/notices/<int:notice_id>/attachments/<int:attachment_id>")
@public
def download_notice_attachment(notice_id, attachment_id):
    """Download a notice's attachment; 404 when the file is not the notice's, or the notice is not
    public (except to the province admins who manage notices)."""
    attachment = notices.notice_attachment_for_reader(
        notice_id=notice_id, attachment_id=attachment_id, user=current_user
    )
    if attachment is None:
        abort(404)
    return attachment_response(attachment)


@bp.route("/institutions")
@public
@public_page(DIRECTORY, REFERENCE)
def list_institutions():
    """核心服务机构 名单 with filters (市州, 机构类型, 服务类别, 关键词); unknown filter values are ignored."""
    form = DirectoryFilterForm(request.args)
    form.fill_choices(directory.filter_choices())
    values = form.values()
    page = directory.institution_directory(
        city_code=values["city_code"],
        type_id=values["type_id"],
        category_id=values["category_id"],
        q=values["q"],
        page=_page_arg(),
    )
    filtered = any(values.values())
    return render(
        "portal/institutions.html",
        "portal/_partials/_institution_results.html",
        form=form,
        page=page,
        filtered=filtered,
        directory=services.DIRECTORIES["institutions"],
    )


@bp.route("/institutions/<int:institution_id>")
@public
@public_page(DIRECTORY, REFERENCE, AWARDS, BIG_DATA)
def show_institution(institution_id):
    """A recognised institution's public page; 404 when it is not (or no longer) recognised."""
    entry = directory.institution_public(institution_id=institution_id)
    if entry is None:
        abort(404)
    return render("portal/institution.html", entry=entry, sections=services.institution_sections(entry.institution))


def _directory(key):
    directory_, page, template = services.directory_page(key=key, page=_page_arg(), args=request.args)
    return render("portal/directory.html", directory=directory_, page=page, items_template=template)


@bp.route("/excellent/institutions")
@public
@public_page(AWARDS, DIRECTORY, REFERENCE)
def list_excellent_institutions():
    """优秀服务机构. No error cases."""
    return _directory("excellent_institutions")


@bp.route("/excellent/products")
@public
@public_page(AWARDS, DIRECTORY, REFERENCE)
def list_excellent_products():
    """优秀服务产品. No error cases."""
    return _directory("excellent_products")


@bp.route("/excellent/experts")
@public
@public_page(AWARDS, DIRECTORY, REFERENCE)
def list_excellent_experts():
    """优秀服务专家. No error cases."""
    return _directory("excellent_experts")


@bp.route("/big-data")
@public
@public_page(BIG_DATA, REFERENCE)
def big_data():
    """调度大数据 (``year`` optional, default the latest year with data). No error cases."""
    return render(
        "portal/big_data.html", summary=services.big_data_summary(year=request.args.get("year", type=year_int))
    )


@bp.route("/search")
@public
def search():
    """搜索 across notices, institutions (and what other modules register); an empty q shows a prompt."""
    q = request.args.get("q", "").strip()[:50]
    kind = request.args.get("kind") or None
    groups = services.search_public(q=q, kind=kind)
    return render(
        "portal/search.html", q=q, kind=kind if len(groups) == 1 else None, groups=groups, scope=services.search_scope()
    )


@bp.route("/contact")
@public
def contact():
    """联系我们. No error cases."""
    return render("portal/contact.html")


@bp.route("/help", endpoint="help")
@public
def show_help():
    """系统操作问题答疑. No error cases."""
    return render("portal/help.html")


@bp.route("/help/manual.docx")
@public
def download_manual():
    """The operations manual as a Word document. No error cases."""
    return send_file(
        BytesIO(manual_docx()),
        as_attachment=True,
        download_name=DOWNLOAD_NAME,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


@bp.route("/entry/<kind>")
@public
def entry(kind):
    """申报/调度管理/优秀评选/企业投诉入口: to the right page for the user, via 登录 if needed; 404 for an unknown kind."""
    url = services.entry_url(kind=kind, user=current_user)
    if url is None:
        abort(404)
    return redirect(url)


@bp.route("/regions/counties")
@public
def county_options():
    """The <option>s of one 市州's 区县 (htmx fragment); an empty or unknown 市州 gives every 区县."""
    options = services.county_options(city_code=request.args.get("city_code", ""))
    return render_template("portal/_partials/_county_options.html", options=options)
