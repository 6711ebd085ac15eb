"""Portal: the public pages (首页, 通知公告, directories, 搜索, 联系我们, 答疑, 入口 buttons)."""
from flask import abort, redirect, render_template, request
from flask_login import current_user

from app.access import public
from app.blueprints.portal import bp, services
from app.blueprints.portal.models import NOTICE_CATEGORIES
from app.htmx import render


def _page_arg():
    return request.args.get("page", 1, type=int) or 1


@bp.route("/")
@public
def index():
    """首页. No error cases."""
    return render("portal/index.html", **services.home_page())


@bp.route("/notices")
@public
def list_notices():
    """通知公告 / 工作动态 list; an unknown category shows all."""
    category = request.args.get("category", "")
    if category not in NOTICE_CATEGORIES:
        category = ""
    page = services.notice_list(category=category or None, page=_page_arg())
    return render("portal/notices.html", page=page, category=category, categories=NOTICE_CATEGORIES)


@bp.route("/notices/<int:notice_id>")
@public
def show_notice(notice_id):
    """One notice; 404 when it does not exist, is unpublished or scheduled for later."""
    notice = services.notice_get(notice_id=notice_id)
    if notice is None:
        abort(404)
    previous, following = services.notice_neighbours(notice=notice)
    return render(
        "portal/notice.html",
        notice=notice,
        paragraphs=services.notice_paragraphs(notice.body),
        previous=previous,
        following=following,
    )


def _directory(key):
    directory, page = services.directory_page(key=key, page=_page_arg())
    return render("portal/directory.html", directory=directory, page=page)


@bp.route("/institutions")
@public
def list_institutions():
    """核心服务机构 名单. No error cases."""
    return _directory("institutions")


@bp.route("/excellent/institutions")
@public
def list_excellent_institutions():
    """优秀服务机构. No error cases."""
    return _directory("excellent_institutions")


@bp.route("/excellent/products")
@public
def list_excellent_products():
    """优秀服务产品. No error cases."""
    return _directory("excellent_products")


@bp.route("/excellent/experts")
@public
def list_excellent_experts():
    """优秀服务专家. No error cases."""
    return _directory("excellent_experts")


@bp.route("/big-data")
@public
def big_data():
    """调度大数据. No error cases."""
    return render("portal/big_data.html", summary=services.big_data_summary())


@bp.route("/search")
@public
def search():
    """搜索 published notices (and, once public, institutions and experts); empty q shows a prompt."""
    q = request.args.get("q", "").strip()
    return render("portal/search.html", q=q, groups=services.search_public(q=q), scope=services.search_scope())


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


@bp.route("/entry/<kind>")
@public
def entry(kind):
    """申报/调度管理/优秀评选/企业投诉入口: to the target page, via 登录 if needed; 404 for an unknown kind."""
    url = services.entry_url(kind=kind, authenticated=current_user.is_authenticated)
    if url is None:
        abort(404)
    return redirect(url)


@bp.route("/regions/counties")
@public
def county_options():
    """The <option>s of one 市州's 区县 (htmx fragment); an empty or unknown 市州 gives every 区县."""
    options = services.county_options(city_code=request.args.get("city_code", ""))
    return render_template("portal/_partials/_county_options.html", options=options)
