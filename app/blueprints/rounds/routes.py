"""申报批次 / 调度期 / 评选年度 management (province admins)."""

from flask import abort, flash, request, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.rounds import bp
from app.blueprints.rounds.forms import RoundForm
from app.blueprints.rounds.services import RoundError, round_list, round_save
from app.extensions import db
from app.filings.models import ROUND_KINDS, Round
from app.htmx import redirect_303, render
from app.inputs import db_int


@bp.route("/")
@roles("province_admin")
def list_rounds():
    """批次管理: every round, filtered by kind."""
    kind = request.args.get("kind") if request.args.get("kind") in ROUND_KINDS else None
    page = round_list(kind=kind, page=request.args.get("page", 1, type=db_int))
    return render(
        "rounds/list.html", page=page, kind=kind, kinds=ROUND_KINDS, breadcrumb=[("审核管理", None), ("批次管理", None)]
    )


@bp.route("/new", methods=["GET", "POST"])
@roles("province_admin")
def new_round():
    """Open a round; a duplicate period or an end before the start is refused beside the field."""
    form = RoundForm(kind=request.args.get("kind") or "application")
    return _save(form, None)


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@roles("province_admin")
def edit_round(round_id):
    """Edit dates and title; 404 for an unknown round."""
    round = db.session.get(Round, round_id) or abort(404)
    return _save(RoundForm(obj=round), round)


def _save(form, round):
    error = None
    if form.validate_on_submit():
        try:
            saved = round_save(
                round=round,
                data={name: form[name].data for name in ("kind", "title", "year", "month", "opens_on", "closes_on")},
                actor=current_user,
            )
        except RoundError as exc:
            error = str(exc)
            form.year.errors = list(form.year.errors) + [error]
        else:
            flash(f"已保存：{saved.title}", "success")
            return redirect_303(url_for("rounds.list_rounds", kind=saved.kind))
    return render(
        "rounds/form.html",
        form=form,
        round=round,
        status=422 if form.errors else 200,
        breadcrumb=[
            ("审核管理", None),
            ("批次管理", url_for("rounds.list_rounds")),
            ("编辑批次" if round else "新建批次", None),
        ],
    )
