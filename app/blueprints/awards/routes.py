"""优秀评选: the three nominations (engine views), 评审管理 for the province admin, the reviewer's
pages, and the entry button. Reviewer pages are @roles("expert"); the service then checks that the
expert is a 评审专家 assigned to that nomination without a conflict of interest (others get 404)."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.awards import bp, publication, ranking_export, reviews, scoring, services
from app.blueprints.awards.forms import (
    AssignForm,
    AutoAssignForm,
    CriteriaForm,
    EmployerVerifyForm,
    OverrideForm,
    PublicityForm,
    UnpublishForm,
    score_form,
)
from app.blueprints.awards.wizard import WIZARDS, wizard_of
from app.filings.attachments import attachment_response
from app.filings.views import register_views, show_context
from app.forms import EmptyForm
from app.htmx import redirect_303, render
from app.inputs import db_int
from app.utils import local_today

for _wizard in WIZARDS:
    register_views(bp, _wizard)


ROOT = ("优秀评选管理", None)
CONTACT_FIELDS = {"phone", "contact", "email"}  # not shown to 评审专家 (blind review)


def _crumbs(*items):
    return [ROOT, *items]


def _round():
    return services.award_round(request.values.get("round_id", type=db_int))


def _round_or_flash():
    chosen = _round()
    if chosen is None:
        flash("还没有评选年度：请先在“批次管理”中新建类型为“评选年度”的批次。", "warning")
    return chosen


# ---- 评审管理 (province admin) -------------------------------------------------------------------


@bp.route("/admin/")
@roles("province_admin")
def show_judging():
    """评审管理: progress of each kind in a 评选年度, 公示 and 发布; 404 for an unknown round."""
    chosen = _round()
    pub = services.publication_of(chosen)
    form = PublicityForm(
        formdata=None, starts=pub.publicity_starts if pub else local_today(), ends=pub.publicity_ends if pub else None
    )
    return _judging_page(chosen, form)


def _judging_page(chosen, form, status=200):
    pub = services.publication_of(chosen)
    return render(
        "awards/judging.html",
        status=status,
        round=chosen,
        rounds=services.award_rounds(),
        publication=pub,
        withdrawal=publication.last_withdrawal(chosen) if pub and pub.published_at is None else None,
        progress=services.round_progress(chosen) if chosen else [],
        form=form,
        today=local_today(),
        breadcrumb=_crumbs(("评审管理", None)),
    )


@bp.route("/admin/publicity", methods=["POST"])
@roles("province_admin")
def open_publicity():
    """Open or re-date the 公示; refused (with the reason) while results are missing or once published."""
    chosen = _round() or abort(404)
    form = PublicityForm()
    if form.validate_on_submit():
        try:
            publication.publicity_open(round=chosen, starts=form.starts.data, ends=form.ends.data, actor=current_user)
        except services.AwardError as error:
            flash(str(error), "error")
        else:
            flash(
                f"已公示评选结果：{form.starts.data:%Y-%m-%d} 至 {form.ends.data:%Y-%m-%d}，公示期间在门户网站显示。",
                "success",
            )
            return redirect_303(url_for("awards.show_judging", round_id=chosen.id))
    return _judging_page(chosen, form, status=422)


@bp.route("/admin/publish", methods=["POST"])
@roles("province_admin")
def publish_results():
    """发布 the results; refused before the 公示 has started or when results are missing."""
    chosen = _round() or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        publication.results_publish(round=chosen, actor=current_user, early_reason=request.form.get("early_reason"))
    except services.AwardError as error:
        flash(str(error), "error")
    else:
        flash(
            "评选结果已发布：入选名单已在门户网站的优秀服务机构、优秀服务产品、优秀服务专家栏目公布，并已通知各申报单位。",
            "success",
        )
    return redirect_303(url_for("awards.show_judging", round_id=chosen.id))


@bp.route("/admin/unpublish", methods=["GET", "POST"])
@roles("province_admin")
def unpublish_results():
    """撤销发布: a confirmation page asking the reason (required); the results leave the portal and
    the round returns to its 公示. 404 without a 评选年度; when nothing is published the page says so;
    a repeated request lands on 评审管理 as the first did."""
    chosen = _round() or abort(404)
    pub = services.publication_of(chosen)
    form = UnpublishForm(data={"seen": publication.publication_token(pub)} if request.method == "GET" else None)
    error = None
    if form.validate_on_submit():
        try:
            done = publication.results_unpublish(
                round=chosen, reason=form.reason.data, actor=current_user, seen=form.seen.data
            )
        except services.AwardError as exc:
            error = str(exc)
        else:
            if done.repeated and done.by != current_user.username:
                flash(f"评选结果已由 {done.by} 撤销发布。", "info")
            else:
                flash(
                    f"已撤销发布评选结果：{done.count} 项申报退回待评审，门户网站不再显示，已通知各申报单位。"
                    "更正后可重新发布。",
                    "success",
                )
            return redirect_303(url_for("awards.show_judging", round_id=chosen.id))
    return render(
        "awards/unpublish.html",
        status=422 if (form.errors or error) else 200,
        round=chosen,
        publication=pub,
        counts=publication.published_counts(chosen) if pub and pub.published_at else [],
        form=form,
        error=error,
        breadcrumb=_crumbs(
            ("评审管理", url_for("awards.show_judging", round_id=chosen.id)), ("撤销发布评选结果", None)
        ),
    )


@bp.route("/admin/reviewers")
@roles("province_admin")
def list_reviewers():
    """评审专家: expert accounts with their 评审专家 mark and load. No error cases."""
    q = (request.args.get("q") or "").strip()[:40]
    only = request.args.get("only") == "1"
    page = services.reviewer_list(q=q or None, only_reviewers=only, page=request.args.get("page", 1, type=db_int))
    loads = services.reviewer_loads([e.user_id for e in page.items], services.award_round())
    verified = services.verified_employers([e.id for e in page.items])
    return render(
        "awards/reviewers.html",
        page=page,
        loads=loads,
        verified=verified,
        q=q,
        only=only,
        form=EmptyForm(),
        breadcrumb=_crumbs(("评审专家", None)),
    )


@bp.route("/admin/reviewers/<int:expert_id>/employer", methods=["GET", "POST"])
@roles("province_admin")
def verify_employer(expert_id):
    """核实工作单位: the expert's declared, verified and earlier employers; record the verified one,
    which re-checks its open assignments; 404 for an unknown expert."""
    expert = services.expert_or_404(expert_id)
    verified = services.verified_employers([expert.id]).get(expert.id)
    form = EmployerVerifyForm(data={"employer": verified or expert.employer} if request.method == "GET" else None)
    if form.validate_on_submit():
        flagged = services.employer_verify(expert=expert, name=form.employer.data, actor=current_user)
        if flagged is None:
            flash(f"{expert.name}的工作单位已核实为“{form.employer.data}”，无需重复核实。", "info")
        else:
            flash(f"已核实{expert.name}的工作单位：{form.employer.data}。", "success")
            if flagged:
                flash(
                    f"{expert.name}有 {len(flagged)} 项尚未评分的评审任务因此存在利益冲突，已暂停其评分，请撤销后另行分配："
                    + "；".join(a.filing.display_name for a in flagged)
                    + "。",
                    "warning",
                )
        return redirect_303(url_for("awards.verify_employer", expert_id=expert.id))
    recorded, assigned = services.employer_history(expert)
    return render(
        "awards/reviewer_employer.html",
        status=422 if form.errors else 200,
        expert=expert,
        verified=verified,
        form=form,
        recorded=recorded,
        assigned=assigned,
        breadcrumb=_crumbs(("评审专家", url_for("awards.list_reviewers")), (f"核实工作单位：{expert.name}", None)),
    )


@bp.route("/admin/reviewers/<int:expert_id>", methods=["POST"])
@roles("province_admin")
def set_reviewer(expert_id):
    """Mark or unmark an expert as 评审专家; 404 for an unknown expert."""
    expert = services.expert_or_404(expert_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    on = request.form.get("on") == "1"
    withdrawn = services.reviewer_set(expert=expert, on=on, actor=current_user)
    message = f"已{'设为' if on else '取消'}评审专家：{expert.name}。"
    if withdrawn:
        message += f"其 {withdrawn} 项未完成的评审任务已撤销，请重新分配。"
    flash(message, "success")
    return redirect_303(
        url_for("awards.list_reviewers", q=request.form.get("q") or None, page=request.form.get("page") or None)
    )


def _kind_context(wizard, chosen, current):
    return {
        "wizard": wizard,
        "round": chosen,
        "rounds": services.award_rounds(),
        "kinds": WIZARDS,
        "current": current,
        "breadcrumb": _crumbs(
            ("评审管理", url_for("awards.show_judging", round_id=chosen.id if chosen else None)),
            (f"{wizard.short_title}{current}", None),
        ),
    }


@bp.route("/admin/<kind>/criteria", methods=["GET", "POST"])
@roles("province_admin")
def edit_criteria(kind):
    """评分标准 of a kind: criteria with full score and weight (weights add up to 100); locked once
    scores are in; 404 for an unknown kind or round."""
    wizard = services.wizard_or_404(kind)
    chosen = _round_or_flash()
    if chosen is None:
        return redirect(url_for("rounds.list_rounds", kind="award"))
    locked = services.criteria_locked(chosen, wizard.kind)
    if request.method == "POST":
        form = CriteriaForm()
        if form.validate_on_submit():
            rows = [
                {"name": r.form.name.data, "max_score": r.form.max_score.data, "weight": r.form.weight.data}
                for r in form.rows.entries
                if r.form.name.data
            ]
            try:
                services.criteria_save(round=chosen, wizard=wizard, rows=rows, actor=current_user)
            except services.AwardError as error:
                flash(str(error), "error")
            else:
                flash(f"已保存{wizard.short_title}评分标准。", "success")
            return redirect_303(url_for("awards.edit_criteria", kind=kind, round_id=chosen.id))
        status = 422
    else:
        rows = services.criteria_rows(chosen, wizard.kind)
        form = CriteriaForm(formdata=None, data={"rows": rows + [{}] * 2})
        status = 200
    return render(
        "awards/criteria.html", status=status, form=form, locked=locked, **_kind_context(wizard, chosen, "评分标准")
    )


@bp.route("/admin/<kind>/assignments")
@roles("province_admin")
def list_assignments(kind):
    """评审分配 of a kind: nominations past 资格审查 with their reviewers; 404 for an unknown kind or round."""
    wizard = services.wizard_or_404(kind)
    chosen = _round_or_flash()
    if chosen is None:
        return redirect(url_for("rounds.list_rounds", kind="award"))
    return render(
        "awards/assignments.html",
        rows=services.assignment_overview(round=chosen, wizard=wizard),
        closed=services.judging_closed(chosen),
        form=AutoAssignForm(formdata=None),
        **_kind_context(wizard, chosen, "评审分配"),
    )


@bp.route("/admin/<kind>/assignments/auto", methods=["POST"])
@roles("province_admin")
def auto_assign(kind):
    """自动分配: N reviewers per nomination, loads balanced, conflicts avoided; the shortfalls are listed."""
    wizard = services.wizard_or_404(kind)
    chosen = _round() or abort(404)
    form = AutoAssignForm()
    if form.validate_on_submit():
        try:
            result = services.assignments_auto(
                round=chosen, wizard=wizard, per_nomination=form.per_nomination.data, actor=current_user
            )
        except services.AwardError as error:
            flash(str(error), "error")
        else:
            flash(f"已自动分配 {result.added} 项评审任务，并已通知相关评审专家。", "success")
            if result.short:
                flash(
                    "以下申报未能分配足够的评审专家："
                    + "；".join(
                        f"{nomination.display_name}（还差 {missing} 人，{why}）"
                        for nomination, missing, why in result.short
                    )
                    + "。可以在“评审专家”中增加评审专家，或逐项手工分配。",
                    "warning",
                )
        return redirect_303(url_for("awards.list_assignments", kind=kind, round_id=chosen.id))
    return render(
        "awards/assignments.html",
        status=422,
        rows=services.assignment_overview(round=chosen, wizard=wizard),
        closed=services.judging_closed(chosen),
        form=form,
        **_kind_context(wizard, chosen, "评审分配"),
    )


@bp.route("/admin/nominations/<int:filing_id>/reviewers", methods=["GET", "POST"])
@roles("province_admin")
def edit_assignments(filing_id):
    """Assign a reviewer by hand; a conflict of interest is refused with its reason; 404 for an unknown nomination."""
    filing = services.nomination_or_404(filing_id)
    wizard = wizard_of(filing)
    form = AssignForm()
    candidates = services.candidate_reviewers(filing=filing)
    form.reviewer_id.choices = [("", "请选择评审专家")] + [
        (reviewer.id, f"{reviewer.expert.name}（{reviewer.expert.employer}）{'　' + reason if reason else ''}")
        for reviewer, reason in candidates
    ]
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.assignment_add(filing=filing, reviewer_id=form.reviewer_id.data, actor=current_user)
            except services.AwardError as exc:
                error = str(exc)
                form.reviewer_id.errors = [error]
            else:
                flash("已分配评审专家，并已通知该专家。", "success")
                return redirect_303(url_for("awards.edit_assignments", filing_id=filing.id))
    assignments = services.assignment_overview_of(filing=filing)
    criteria = services.criteria_of(filing.round, filing.kind)
    totals = {a.id: reviews.task_total(a, criteria) for a in assignments}
    context = _kind_context(wizard, filing.round, "评审分配")
    context["breadcrumb"] = context["breadcrumb"][:-1] + [
        (
            f"{wizard.short_title}评审分配",
            url_for("awards.list_assignments", kind=wizard.slug, round_id=filing.round_id),
        ),
        (filing.display_name or "评审专家", None),
    ]
    return render(
        "awards/nomination_reviewers.html",
        status=422 if form.errors else 200,
        filing=filing,
        form=form,
        candidates=candidates,
        assignments=assignments,
        totals=totals,
        closed=services.judging_closed(filing.round),
        **context,
    )


@bp.route("/admin/assignments/<int:assignment_id>/delete", methods=["POST"])
@roles("province_admin")
def delete_assignment(assignment_id):
    """Withdraw an assignment whose scores are not in; 404 for an unknown one."""
    assignment = services.assignment_or_404(assignment_id)
    filing_id = assignment.filing_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.assignment_remove(assignment=assignment, actor=current_user)
    except services.AwardError as error:
        flash(str(error), "error")
    else:
        flash("已撤销该评审分配。", "success")
    return redirect_303(url_for("awards.edit_assignments", filing_id=filing_id))


def _ranking_args(values):
    """The ranking's sort and direction from the query string (or the form carrying them)."""
    sort = values.get("sort") or "mean"
    if sort not in scoring.SORT_KEYS:
        sort = "mean"
    descending = values.get("dir", "desc" if sort != "name" else "asc") != "asc"
    return sort, descending


def _ranking_page(wizard, chosen, sort, descending, status=200, **extra):
    pub = services.publication_of(chosen)
    return render(
        "awards/ranking.html",
        status=status,
        rows=reviews.ranking(round=chosen, wizard=wizard, viewer=current_user, sort=sort, descending=descending),
        criteria=services.criteria_of(chosen, wizard.kind),
        sort=sort,
        descending=descending,
        publication=pub,
        form=EmptyForm(),
        **{"posted": None, "missing": None, "override_form": None, "error": None, **extra},
        **_kind_context(wizard, chosen, "评审排名"),
    )


@bp.route("/admin/<kind>/ranking")
@roles("province_admin")
def show_ranking(kind):
    """评审排名 of a kind: weighted mean, count, spread, sortable; 入选 / 未入选; 404 for an unknown kind."""
    wizard = services.wizard_or_404(kind)
    chosen = _round_or_flash()
    if chosen is None:
        return redirect(url_for("rounds.list_rounds", kind="award"))
    sort, descending = _ranking_args(request.args)
    return _ranking_page(wizard, chosen, sort, descending)


@bp.route("/admin/<kind>/ranking.xlsx")
@roles("province_admin")
def export_ranking(kind):
    """评审排名 导出Excel: the page's table in its sort order, with each reviewer's total and the mean;
    404 for an unknown kind or when there is no 评选年度."""
    wizard = services.wizard_or_404(kind)
    chosen = _round() or abort(404)
    sort, descending = _ranking_args(request.args)
    return ranking_export.ranking_response(round=chosen, wizard=wizard, sort=sort, descending=descending)


@bp.route("/admin/<kind>/results", methods=["POST"])
@roles("province_admin")
def save_results(kind):
    """Record 入选 / 未入选; refused once published. While assigned scores are missing the page comes
    back (422) with the choices kept and who has not scored, to decide anyway with a reason."""
    wizard = services.wizard_or_404(kind)
    chosen = _round() or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    decisions = {}
    for key, value in request.form.items():
        if key.startswith("result_") and key[7:].isdecimal():
            decisions[int(key[7:])] = {"1": True, "0": False}.get(value)
    sort, descending = _ranking_args(request.form)
    override_form = OverrideForm()
    override = request.form.get("override") == "1"
    reason = override_form.override_reason.data if override and override_form.validate() else None
    try:
        changed = reviews.results_save(
            round=chosen, wizard=wizard, decisions=decisions, actor=current_user, override_reason=reason
        )
    except reviews.ScoresMissing as missing:
        if not override:
            override_form = OverrideForm(formdata=None)
        return _ranking_page(
            wizard,
            chosen,
            sort,
            descending,
            status=422,
            posted=decisions,
            missing=missing.missing,
            override_form=override_form,
            error=str(missing),
        )
    except services.AwardError as error:
        flash(str(error), "error")
    else:
        flash(
            f"已保存评选结果（修改 {changed} 项）。" + ("未全部评分即确定的理由已记入操作日志。" if reason else ""),
            "success",
        )
    return redirect_303(
        url_for(
            "awards.show_ranking",
            kind=kind,
            round_id=chosen.id,
            sort=request.form.get("sort") or None,
            dir=request.form.get("dir") or None,
        )
    )


@bp.route("/admin/<kind>/remind", methods=["POST"])
@roles("province_admin")
def remind_reviewers(kind):
    """站内消息 + SMS to reviewers who have not scored; refused once the 公示 is open."""
    wizard = services.wizard_or_404(kind)
    chosen = _round() or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        count = reviews.reminders_send(round=chosen, wizard=wizard, actor=current_user)
    except services.AwardError as error:
        flash(str(error), "error")
    else:
        flash(
            f"已提醒 {count} 位尚未评分的评审专家（站内消息和短信）。" if count else "所有评审专家都已评分，无需提醒。",
            "success",
        )
    return redirect_303(url_for("awards.show_ranking", kind=kind, round_id=chosen.id))


# ---- the reviewer's pages ------------------------------------------------------------------------


@bp.route("/reviews/")
@roles("expert")
def list_reviews():
    """我的评审任务: only this reviewer's assignments; an expert who is no reviewer is told so."""
    tasks = reviews.reviewer_tasks(user=current_user)
    return render(
        "awards/reviews.html", tasks=tasks, wizard_of=wizard_of, breadcrumb=[("优秀评选", None), ("我的评审任务", None)]
    )


@bp.route("/reviews/<int:assignment_id>", methods=["GET", "POST"])
@roles("expert")
def score_nomination(assignment_id):
    """评分: the nomination, one score per criterion with an optional comment; others' scores only
    after submitting; 404 when not this reviewer's assignment or a conflict of interest."""
    assignment = reviews.task_or_404(assignment_id=assignment_id, user=current_user)
    criteria = reviews.task_criteria(assignment)
    form = score_form(criteria, formdata=request.form if request.method == "POST" else None)
    error = None
    if request.method == "POST" and form.validate():
        data = {c.id: (form[f"score_{c.id}"].data, form[f"comment_{c.id}"].data) for c in criteria}
        try:
            reviews.scores_submit(assignment=assignment, data=data, user=current_user)
        except services.AwardError as exc:
            error = str(exc)
        else:
            flash("评分已提交。现在可以看到其他评审专家已提交的评分。", "success")
            return redirect_303(url_for("awards.score_nomination", assignment_id=assignment.id))
    filing = assignment.filing
    wizard = wizard_of(filing)
    context = show_context(wizard, filing)
    # blind review: the reviewer sees the nomination, not how to reach the applicant
    context["sections"] = [
        (title, [row for row in rows if row[3] not in CONTACT_FIELDS]) for title, rows in context["sections"]
    ]
    context.update(
        blind=True,
        assignment=assignment,
        criteria=criteria,
        form=form,
        error=error,
        own=reviews.card_scores(assignment),
        own_total=reviews.task_total(assignment, criteria),
        peers=reviews.peer_scores(assignment=assignment),
        attachment_href=lambda attachment: url_for(
            "awards.download_review_attachment", assignment_id=assignment.id, attachment_id=attachment.id
        ),
        closed=reviews.scoring_closed(filing),
        breadcrumb=[
            ("优秀评选", None),
            ("我的评审任务", url_for("awards.list_reviews")),
            (filing.display_name or "评分", None),
        ],
    )
    return render("awards/score.html", status=422 if (form.errors or error) else 200, **context)


@bp.route("/reviews/<int:assignment_id>/attachments/<int:attachment_id>")
@roles("expert")
def download_review_attachment(assignment_id, attachment_id):
    """A nomination's attachment for its assigned reviewer; 404 otherwise."""
    assignment = reviews.task_or_404(assignment_id=assignment_id, user=current_user)
    return attachment_response(reviews.task_attachment_or_404(assignment=assignment, attachment_id=attachment_id))
