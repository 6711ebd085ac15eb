"""字典管理 and 所属平台 (system administration, province admins only)."""

from flask import abort, flash, request, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.admin import bp, queries, services
from app.blueprints.admin.forms import DictItemForm, PlatformForm
from app.blueprints.admin.routes import PROVINCE, crumbs, form_error
from app.blueprints.admin.services import AdminError
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.reference.models import DICT_KINDS
from app.utils import paginate

# --- 字典管理 ---------------------------------------------------------------------------------


def _kind_or_404(kind):
    if kind not in DICT_KINDS:
        abort(404)
    return DICT_KINDS[kind]


@bp.route("/dicts", defaults={"kind": "unit_nature"})
@bp.route("/dicts/<kind>")
@roles(*PROVINCE)
def list_dicts(kind):
    """字典管理, one tab per list. 404 unknown list."""
    cls = _kind_or_404(kind)
    return render(
        "admin/dicts.html",
        kind=kind,
        page=paginate(queries.dict_items_select(kind), page=request.args.get("page", 1, type=db_int), per_page=100),
        breadcrumb=crumbs(("字典管理", url_for("admin.list_dicts")), (cls.label, None)),
    )


def _dict_form_page(form, kind, item=None):
    cls = DICT_KINDS[kind]
    title = f"编辑{cls.label}" if item else f"新增{cls.label}"
    return render(
        "admin/dict_form.html",
        form=form,
        kind=kind,
        item=item,
        title=title,
        breadcrumb=crumbs(("字典管理", url_for("admin.list_dicts", kind=kind)), (title, None)),
    )


@bp.route("/dicts/<kind>/new", methods=["GET", "POST"])
@roles(*PROVINCE)
def new_dict_item(kind):
    """新增字典项. 404 unknown list; duplicate name or bad sort order beside the field."""
    _kind_or_404(kind)
    form = DictItemForm(
        kind=kind, data=None if request.method == "POST" else {"sort_order": queries.dict_next_sort_order(kind)}
    )
    if form.validate_on_submit():
        try:
            item = services.dict_item_save(
                kind=kind,
                name=form.name.data,
                code=form.code.data,
                sort_order=form.sort_order.data,
                active=form.active.data,
                actor=current_user,
            )
        except AdminError as error:
            form_error(form, error)
        else:
            flash(f"已新增“{item.name}”。", "success")
            return redirect_303(url_for("admin.list_dicts", kind=kind))
    return _dict_form_page(form, kind)


def _dict_item_or_404(item_id):
    return queries.dict_item_get(item_id) or abort(404)


@bp.route("/dicts/item/<int:item_id>/edit", methods=["GET", "POST"])
@roles(*PROVINCE)
def edit_dict_item(item_id):
    """编辑字典项. 404 unknown entry; duplicate name or bad sort order beside the field."""
    item = _dict_item_or_404(item_id)
    form = DictItemForm(obj=item, kind=item.kind, item_id=item.id)
    if form.validate_on_submit():
        try:
            services.dict_item_save(
                kind=item.kind,
                item=item,
                name=form.name.data,
                code=form.code.data,
                sort_order=form.sort_order.data,
                active=form.active.data,
                actor=current_user,
            )
        except AdminError as error:
            form_error(form, error)
        else:
            flash(f"已保存“{item.name}”。", "success")
            return redirect_303(url_for("admin.list_dicts", kind=item.kind))
    return _dict_form_page(form, item.kind, item)


def _dict_set_active(item_id, active):
    item = _dict_item_or_404(item_id)
    try:
        services.dict_item_set_active(item=item, active=active, actor=current_user)
    except AdminError as error:
        flash(str(error), "error")
    else:
        flash(
            f"已{'启用' if active else '停用'}“{item.name}”。"
            + ("" if active else "已使用它的记录仍显示原名称，新填报不再可选。"),
            "success",
        )
    return redirect_303(url_for("admin.list_dicts", kind=item.kind))


@bp.route("/dicts/item/<int:item_id>/retire", methods=["POST"])
@roles(*PROVINCE)
def retire_dict_item(item_id):
    """停用字典项 (records keep it). 404 unknown entry; refuses one already retired."""
    return _dict_set_active(item_id, False)


@bp.route("/dicts/item/<int:item_id>/restore", methods=["POST"])
@roles(*PROVINCE)
def restore_dict_item(item_id):
    """启用字典项. 404 unknown entry; refuses one already active."""
    return _dict_set_active(item_id, True)


# --- 所属平台 ---------------------------------------------------------------------------------


@bp.route("/platforms")
@roles(*PROVINCE)
def list_platforms():
    """所属平台, with how many institutions use each."""
    page = paginate(queries.platforms_select(), page=request.args.get("page", 1, type=db_int), per_page=100)
    return render(
        "admin/platforms.html",
        page=page,
        usage=queries.platform_usage([platform.id for platform in page.items]),
        breadcrumb=crumbs(("所属平台", None)),
    )


def _platform_form_page(form, platform=None):
    title = "编辑所属平台" if platform else "新增所属平台"
    return render(
        "admin/platform_form.html",
        form=form,
        platform=platform,
        title=title,
        breadcrumb=crumbs(("所属平台", url_for("admin.list_platforms")), (title, None)),
    )


@bp.route("/platforms/new", methods=["GET", "POST"])
@roles(*PROVINCE)
def new_platform():
    """新增所属平台. Duplicate name or bad sort order beside the field."""
    form = PlatformForm(data=None if request.method == "POST" else {"sort_order": queries.platform_next_sort_order()})
    if form.validate_on_submit():
        try:
            platform = services.platform_save(
                name=form.name.data,
                city_code=form.city_code.data,
                sort_order=form.sort_order.data,
                active=form.active.data,
                actor=current_user,
            )
        except AdminError as error:
            form_error(form, error)
        else:
            flash(f"已新增所属平台“{platform.name}”。", "success")
            return redirect_303(url_for("admin.list_platforms"))
    return _platform_form_page(form)


def _platform_or_404(platform_id):
    return queries.platform_get(platform_id) or abort(404)


@bp.route("/platforms/<int:platform_id>/edit", methods=["GET", "POST"])
@roles(*PROVINCE)
def edit_platform(platform_id):
    """编辑所属平台 (rename, 市州, 排序, 启用). 404 unknown platform; errors beside the field."""
    platform = _platform_or_404(platform_id)
    form = PlatformForm(obj=platform, platform_id=platform.id)
    if form.validate_on_submit():
        try:
            services.platform_save(
                platform=platform,
                name=form.name.data,
                city_code=form.city_code.data,
                sort_order=form.sort_order.data,
                active=form.active.data,
                actor=current_user,
            )
        except AdminError as error:
            form_error(form, error)
        else:
            flash(f"已保存所属平台“{platform.name}”。", "success")
            return redirect_303(url_for("admin.list_platforms"))
    return _platform_form_page(form, platform)


def _platform_set_active(platform_id, active):
    platform = _platform_or_404(platform_id)
    try:
        services.platform_set_active(platform=platform, active=active, actor=current_user)
    except AdminError as error:
        flash(str(error), "error")
    else:
        flash(f"已{'启用' if active else '停用'}所属平台“{platform.name}”。", "success")
    return redirect_303(url_for("admin.list_platforms"))


@bp.route("/platforms/<int:platform_id>/retire", methods=["POST"])
@roles(*PROVINCE)
def retire_platform(platform_id):
    """停用所属平台 (institutions keep it). 404 unknown platform; refuses one already retired."""
    return _platform_set_active(platform_id, False)


@bp.route("/platforms/<int:platform_id>/restore", methods=["POST"])
@roles(*PROVINCE)
def restore_platform(platform_id):
    """启用所属平台. 404 unknown platform; refuses one already active."""
    return _platform_set_active(platform_id, True)
