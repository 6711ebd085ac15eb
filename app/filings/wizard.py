"""Step / Wizard declarations and the generic views every filing module gets.

A module declares its wizard (ordered steps, each a form plus a partial template) and calls
``wizard.register(bp)``; the engine serves list, create, steps, attachments, submit, view, delete,
withdraw, the review queue, the review decision and the Excel export. Step URLs are real
(``/<module>/<id>/step/<slug>``): GET shows the step, POST validates and saves; htmx gets the next
step's fragment with HX-Push-Url, a plain browser a 303 redirect.
"""
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.access import roles
from app.filings import services, workflow
from app.filings.attachments import ALLOWED_NOTICE, attachment_response
from app.forms import EmptyForm
from app.htmx import is_htmx, redirect_303, render

ADMINS = ("city_admin", "province_admin")


@dataclass
class Step:
    slug: str
    title: str
    form: type
    template: str  # partial with this step's fields
    prepare: Callable | None = None  # (form, filing) -> None: computed labels, choices
    context: Callable | None = None  # (filing) -> dict: extra template context
    # Fields that depend on the filing (one block per 服务类别) and are not model columns:
    form_for: Callable | None = None  # (filing) -> form class, used instead of ``form``
    load: Callable | None = None  # (form, filing) -> None: fill those fields from the draft
    save: Callable | None = None  # (form, filing) -> None: store them (columns are set by the engine)

    def form_class(self, filing):
        return self.form_for(filing) if self.form_for else self.form

    def make_form(self, filing, submitted=False):
        """The step's form: from the request when submitted, else from the stored draft."""
        form_class = self.form_class(filing)
        form = form_class() if submitted else form_class(formdata=None, obj=filing, meta={"csrf": False})
        if not submitted and self.load:
            self.load(form, filing)
        if self.prepare:
            self.prepare(form, filing)
        return form

    def field_names(self, form):
        return [f.name for f in form if f.type not in ("CSRFTokenField", "SubmitField")]

    def missing_fields(self, filing):
        form = self.make_form(filing)
        return [f.name for f in form if f.flags.required and f.data in (None, "")]


@dataclass
class Wizard:
    kind: str  # audit prefix, e.g. "application"
    model: type
    blueprint: str
    noun: str  # endpoint noun: show_<noun>, edit_<noun> ...
    plural: str  # list_<plural>, review_<plural>
    title: str  # 核心服务机构申报
    round_kind: str
    steps: list
    attachment_title: str = "附件材料上传"
    levels: tuple = ("city", "province")
    owner_roles: tuple = ("institution",)
    breadcrumb_root: str = "申报管理"
    breadcrumb_section: str = "核心服务机构调度管理"
    edit_label: str = ""  # the breadcrumb's last part, e.g. 编辑服务机构申报信息
    new_label: str = "新增"
    submit_label: str = "提交"
    min_attachments: int = 1
    one_per_round: bool = True
    needs_institution: bool = True
    duplicate_message: str = "本批次已有填报记录，不能重复填报。"
    status_labels: dict = field(default_factory=dict)
    action_labels: dict = field(default_factory=dict)  # e.g. {"province_reject": "不予认定"}
    list_columns: list = field(default_factory=list)  # [(header, callable(filing), css class)]
    export_columns: list = field(default_factory=list)  # [(header, callable(filing))]
    # several wizards in one blueprint: each serves its views under its own prefix ("/products")
    url_prefix: str = ""
    # the list page's 所在地区 / 联系人 / 联系方式 columns (from the owner's institution)
    owner_columns: bool = True
    list_label: str = ""  # the list page's last breadcrumb part, e.g. 优秀服务专家申报评选
    # transitions the module makes itself (not offered on the generic review page)
    hidden_actions: tuple = ()
    list_template: str = "filings/list.html"  # the owner's list page (a module may extend it)

    ATTACHMENTS = "attachments"

    # ---- hooks a module may override ----------------------------------------------------
    def prefill(self, filing, *, user):
        """Fill a new draft (e.g. from last month's report)."""

    def extra_checks(self, filing):
        """Module-specific reasons that stop submission."""
        return []

    def on_transition(self, filing, transition, actor):
        """Called inside the transition's transaction (e.g. record a recognition term)."""

    def list_options(self):
        return []

    def detail_html(self, filing):
        """{field name: Markup} shown on 查看 / 审核 instead of a field's plain value and unit
        (e.g. a numbered list, or a figure with a comparison); the Excel export keeps plain values."""
        return {}

    def unique_key(self, *, user, round):
        if not self.one_per_round:
            return None
        owner = user.institution.id if user.institution else f"u{user.id}"
        return f"{self.kind}:{owner}:{round.id}"

    def creatable_rounds(self, user):
        """Rounds ``user`` may start a filing in now, newest first (by default the open round).

        A module with several open periods (monthly reports, late ones by exception) returns them
        all; the list page then lets the user choose, and ``new_<noun>`` takes a ``round_id``.
        """
        current = services.round_current(self.round_kind)
        return [current] if current else []

    def locked_message(self, filing):
        """Why the owner may not change an otherwise editable filing now (e.g. its deadline has
        passed), or None. Checked before every owner change: steps, attachments, submit, withdraw."""
        return None

    def review_notes(self, filing):
        """Short notes shown above a filing on 查看 / 审核 (e.g. 逾期报送, an explained anomaly)."""
        return []

    def list_context(self, *, user):
        """Extra context for the owner's list page (with ``list_template``)."""
        return {}

    def closed_message(self, *, user=None):
        upcoming = services.round_next(self.round_kind)
        if upcoming:
            return f"{upcoming.title}将于 {upcoming.opens_on:%Y-%m-%d} 开放填报，截止 {upcoming.closes_on:%Y-%m-%d}。"
        return "当前没有开放的填报批次，请留意通知公告。"

    # ---- helpers ---------------------------------------------------------------------------
    def status_label(self, status):
        return self.status_labels.get(status) or workflow.STATUS_LABELS[status]

    def action_label(self, transition):
        return self.action_labels.get(transition.name) or transition.label

    def edit_heading(self):
        return self.edit_label or f"编辑{self.title}信息"

    def endpoint(self, verb):
        return f"{self.blueprint}.{verb}"

    def step(self, slug):
        for step in self.steps:
            if step.slug == slug:
                return step
        return None

    def slugs(self):
        return [s.slug for s in self.steps] + [self.ATTACHMENTS]

    def first_incomplete(self, filing):
        done = filing.steps_done or []
        for step in self.steps:
            if step.slug not in done:
                return step.slug
        return self.ATTACHMENTS

    def step_url(self, filing, slug):
        if slug == self.ATTACHMENTS:
            return url_for(self.endpoint(f"edit_{self.noun}_attachments"), filing_id=filing.id)
        return url_for(self.endpoint(f"edit_{self.noun}"), filing_id=filing.id, slug=slug)

    def tabs(self, filing, current):
        """The step tabs: (title, url or None when not reachable yet, is current)."""
        reachable = self.slugs()[: self.slugs().index(self.first_incomplete(filing)) + 1]
        titles = [(s.slug, s.title) for s in self.steps] + [(self.ATTACHMENTS, self.attachment_title)]
        return [(title, self.step_url(filing, slug) if slug in reachable else None, slug == current) for slug, title in titles]

    def pinned(self, filing):
        """Field and attachment keys the latest 退回 pinned, and its comment."""
        if filing.status != workflow.RETURNED:
            return set(), None
        for event in reversed(filing.events):
            if event.to_status == workflow.RETURNED:
                return set(event.pinned or []), event.comment
        return set(), None

    def breadcrumb(self, filing=None, label=None):
        return [
            (self.breadcrumb_root, None),
            (self.breadcrumb_section, url_for(self.endpoint(f"list_{self.plural}"))),
            (label or self.edit_heading(), None),
        ]

    def common(self, filing, current):
        pinned, comment = self.pinned(filing)
        return {
            "wizard": self,
            "filing": filing,
            "tabs": self.tabs(filing, current),
            "current": current,
            "pinned_fields": pinned,
            "return_comment": comment,
            "breadcrumb": self.breadcrumb(filing),
            "status_label": self.status_label,
            "workflow": workflow,
        }

    def detail_sections(self, filing):
        """For 查看: each step's fields as (label, value, unit, key)."""
        sections = []
        for step in self.steps:
            form = step.make_form(filing)
            rows = []
            for f in form:
                if f.type in ("CSRFTokenField", "SubmitField"):
                    continue
                rows.append((f.label.text, display_value(f, f.data), f.description or "", f.name))
            sections.append((step.title, rows))
        return sections

    # ---- views -----------------------------------------------------------------------------
    def register(self, bp):
        owner = roles(*self.owner_roles)
        both = roles(*self.owner_roles, *ADMINS)
        admin = roles(*ADMINS)
        n, p = self.noun, self.plural
        # (rule, endpoint, view, methods): each view gets its access policy below
        rules = [
            ("/", f"list_{p}", (owner, self.view_list), ["GET"]),
            ("/new", f"new_{n}", (owner, self.view_new), ["POST"]),
            ("/<int:filing_id>/step/<slug>", f"edit_{n}", (owner, self.view_step), ["GET", "POST"]),
            ("/<int:filing_id>/attachments", f"edit_{n}_attachments", (owner, self.view_attachments), ["GET", "POST"]),
            ("/<int:filing_id>/attachments/<int:attachment_id>/delete", f"delete_{n}_attachment", (owner, self.view_delete_attachment), ["POST"]),
            ("/<int:filing_id>/attachments/<int:attachment_id>", f"download_{n}_attachment", (both, self.view_download), ["GET"]),
            ("/<int:filing_id>/submit", f"submit_{n}", (owner, self.view_submit), ["POST"]),
            ("/<int:filing_id>", f"show_{n}", (both, self.view_show), ["GET"]),
            ("/<int:filing_id>/delete", f"delete_{n}", (owner, self.view_delete), ["POST"]),
            ("/<int:filing_id>/withdraw", f"withdraw_{n}", (owner, self.view_withdraw), ["GET", "POST"]),
            ("/review", f"review_{p}", (admin, self.view_queue), ["GET"]),
            ("/<int:filing_id>/review", f"review_{n}", (admin, self.view_review), ["GET", "POST"]),
            ("/export.xlsx", f"export_{p}", (admin, self.view_export), ["GET"]),
        ]
        for rule, endpoint, (policy, view), methods in rules:
            bp.add_url_rule(self.url_prefix + rule, endpoint, policy(_named(view, endpoint)), methods=methods)
        self._register_audit_labels()

    def _register_audit_labels(self):
        """Readable names for this kind's audit codes on the 操作日志 page."""
        from app.blueprints.admin.display import ACTION_LABELS, TARGET_LABELS

        ACTION_LABELS.setdefault(f"{self.kind}.create", f"新建{self.title}")
        ACTION_LABELS.setdefault(f"{self.kind}.delete", f"删除{self.title}")
        for transition in workflow.transitions(self.levels):
            ACTION_LABELS.setdefault(f"{self.kind}.{transition.name}", f"{self.title}：{self.action_label(transition)}")
        TARGET_LABELS.setdefault(self.model.__name__, self.title)

    def view_list(self):
        """List the owner's filings of this kind; filters by year and status."""
        year = request.args.get("year", type=int)
        status = request.args.get("status") or None
        if status not in workflow.STATUS_LABELS:
            status = None
        page = services.owner_filings(wizard=self, user=current_user, year=year, status=status, page=request.args.get("page", 1, type=int))
        current_round = services.round_current(self.round_kind)
        context = dict(
            wizard=self,
            page=page,
            year=year,
            chosen_status=status,
            current_round=current_round,
            closed_message=None if current_round else self.closed_message(user=current_user),
            status_label=self.status_label,
            workflow=workflow,
            form=EmptyForm(),
            breadcrumb=[(self.breadcrumb_root, None), (self.breadcrumb_section, None)]
            + ([(self.list_label, None)] if self.list_label else []),
        )
        context.update(self.list_context(user=current_user))  # may replace current_round, closed_message
        return render(self.list_template, **context)

    def view_new(self):
        """Create a draft (in the chosen ``round_id`` when given); refused outside an open round or
        when one exists already (with a link to it)."""
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            filing = services.filing_create(wizard=self, user=current_user, round_id=request.form.get("round_id", type=int))
        except services.FilingError as error:
            flash(error.flash_message(), "error")
            return redirect_303(url_for(self.endpoint(f"list_{self.plural}")))
        return redirect_303(self.step_url(filing, self.steps[0].slug))

    def _editable_or_redirect(self, filing):
        locked = self.locked_message(filing) if filing.status in (*workflow.EDITABLE, workflow.SUBMITTED) else None
        if locked:
            flash(locked, "warning")
            return redirect(url_for(self.endpoint(f"show_{self.noun}"), filing_id=filing.id))
        if filing.status in workflow.EDITABLE:
            return None
        if filing.status == workflow.SUBMITTED:
            return redirect(url_for(self.endpoint(f"withdraw_{self.noun}"), filing_id=filing.id))
        flash(f"该{self.title}当前状态为“{self.status_label(filing.status)}”，不能修改。", "warning")
        return redirect(url_for(self.endpoint(f"show_{self.noun}"), filing_id=filing.id))

    def view_step(self, filing_id, slug):
        """Show or save one step; 404 for another's filing, redirect when skipping ahead."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        step = self.step(slug)
        if step is None:
            abort(404)
        blocked = self._editable_or_redirect(filing)
        if blocked:
            return blocked
        first = self.first_incomplete(filing)
        if self.slugs().index(slug) > self.slugs().index(first):
            return redirect(self.step_url(filing, first))
        form = step.make_form(filing, submitted=request.method == "POST")
        if request.method == "POST" and form.validate():
            services.filing_save_step(filing=filing, step=step, form=form, wizard=self)
            following = self.slugs()[self.slugs().index(slug) + 1]
            if is_htmx():
                return self._render_step(filing, following, push=True)
            return redirect_303(self.step_url(filing, following))
        status = 422 if request.method == "POST" else 200
        return self._render_step(filing, slug, form=form, status=status)

    def _render_step(self, filing, slug, form=None, status=200, push=False, **extra):
        context = self.common(filing, slug)
        if slug == self.ATTACHMENTS:
            context.update(self._attachment_context(filing))
        else:
            step = self.step(slug)
            context["step"] = step
            context["form"] = form or step.make_form(filing)
            if step.context:
                context.update(step.context(filing))
        context.update(extra)
        return render(
            "filings/step.html",
            "filings/_partials/_wizard.html",
            status=status,
            push_url=self.step_url(filing, slug) if push else None,
            **context,
        )

    def _attachment_context(self, filing):
        page_no = max(1, request.args.get("page", 1, type=int))
        items = filing.attachments
        per_page = 20
        pages = max(1, -(-len(items) // per_page))
        page_no = min(page_no, pages)
        from app.utils import Page

        page = Page(items[(page_no - 1) * per_page : page_no * per_page], page_no, per_page, len(items))
        return {
            "attachments_page": page,
            "allowed_notice": ALLOWED_NOTICE,
            "upload_form": EmptyForm(),
            "missing": services.filing_missing(wizard=self, filing=filing),
        }

    def view_attachments(self, filing_id):
        """The attachment step: list, upload (POST); bad files get a message, good ones are kept."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        blocked = self._editable_or_redirect(filing)
        if blocked:
            return blocked
        first = self.first_incomplete(filing)
        if first != self.ATTACHMENTS:
            return redirect(self.step_url(filing, first))
        if request.method == "GET":
            return self._render_step(filing, self.ATTACHMENTS)
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            saved, errors = services.filing_add_attachments(filing=filing, files=request.files.getlist("files"), user=current_user, wizard=self)
        except services.FilingError as error:
            saved, errors = [], [str(error)]
        if not is_htmx():
            for name in saved:
                flash(f"已上传：{name}", "success")
            for error in errors:
                flash(error, "error")
            return redirect_303(self.step_url(filing, self.ATTACHMENTS))
        return self._render_step(filing, self.ATTACHMENTS, status=422 if errors and not saved else 200, upload_saved=saved, upload_errors=errors)

    def view_delete_attachment(self, filing_id, attachment_id):
        """Delete one attachment while the filing is editable; 404 for another's file."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        attachment = services.filing_attachment_or_404(filing, attachment_id)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.filing_delete_attachment(filing=filing, attachment=attachment, user=current_user, wizard=self)
            message = (f"已删除：{attachment.original_name}", "success")
        except services.FilingError as error:
            message = (str(error), "error")
        if is_htmx():
            return self._render_step(filing, self.ATTACHMENTS, upload_saved=[], upload_errors=[] if message[1] == "success" else [message[0]])
        flash(*message)
        return redirect_303(self.step_url(filing, self.ATTACHMENTS))

    def view_download(self, filing_id, attachment_id):
        """Send an attachment to its owner or a reviewer in scope; 404 otherwise."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        return attachment_response(services.filing_attachment_or_404(filing, attachment_id))

    def view_submit(self, filing_id):
        """Submit: refused with the reasons when a step or the attachments are incomplete."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.filing_transition(wizard=self, filing=filing, action="submit", actor=current_user)
        except services.FilingError as error:
            flash(str(error), "error")
            return redirect_303(self.step_url(filing, self.first_incomplete(filing)))
        flash(f"{self.title}已提交，请等待审核。", "success")
        return redirect_303(url_for(self.endpoint(f"list_{self.plural}")))

    def view_show(self, filing_id):
        """查看: every field with its unit, the attachments and the review history."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        return render("filings/show.html", **self._show_context(filing))

    def _show_context(self, filing):
        pinned, comment = self.pinned(filing)
        return {
            "wizard": self,
            "filing": filing,
            "sections": self.detail_sections(filing),
            "detail_html": self.detail_html(filing),
            "review_notes": self.review_notes(filing),
            "pinned_fields": pinned,
            "return_comment": comment,
            "status_label": self.status_label,
            "workflow": workflow,
            "breadcrumb": self.breadcrumb(filing, f"查看{self.title}信息"),
            "form": EmptyForm(),
        }

    def view_delete(self, filing_id):
        """Delete a draft; other statuses are refused with a message."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        if not EmptyForm().validate_on_submit():
            abort(400)
        try:
            services.filing_delete(wizard=self, filing=filing, user=current_user)
            flash(f"已删除该{self.title}草稿。", "success")
        except services.FilingError as error:
            flash(str(error), "error")
        return redirect_303(url_for(self.endpoint(f"list_{self.plural}")))

    def view_withdraw(self, filing_id):
        """编辑 of a submitted filing no reviewer has acted on: confirm, then back to draft; refused
        with a message when the module locks it (e.g. after the deadline)."""
        filing = services.owned_filing_or_404(self, filing_id, current_user)
        form = EmptyForm()
        if filing.status != workflow.SUBMITTED:
            return redirect(url_for(self.endpoint(f"show_{self.noun}"), filing_id=filing.id))
        locked = self.locked_message(filing)
        if locked:
            flash(locked, "warning")
            return redirect(url_for(self.endpoint(f"show_{self.noun}"), filing_id=filing.id))
        if request.method == "POST" and form.validate_on_submit():
            try:
                services.filing_transition(wizard=self, filing=filing, action="withdraw", actor=current_user)
            except services.FilingError as error:
                flash(str(error), "error")
                return redirect_303(url_for(self.endpoint(f"show_{self.noun}"), filing_id=filing.id))
            flash("已撤回为草稿，修改后请重新提交。", "success")
            return redirect_303(self.step_url(filing, self.steps[0].slug))
        return render("filings/withdraw.html", wizard=self, filing=filing, form=form, breadcrumb=self.breadcrumb(filing))

    def view_queue(self):
        """Review queue for this admin's level and scope, with filters."""
        from app.filings.models import Round
        from app.reference.services import cities
        from app.extensions import db
        import sqlalchemy as sa

        args = request.args
        status = args.get("status")
        if status is None:
            status = workflow.SUBMITTED if current_user.role == "city_admin" or self.levels == ("city",) else workflow.CITY_APPROVED
        if status and status not in workflow.STATUS_LABELS:
            status = ""
        page = services.review_filings(
            wizard=self, user=current_user, round_id=args.get("round_id", type=int), city_code=args.get("city_code") or None,
            status=status or None, keyword=(args.get("q") or "").strip() or None, page=args.get("page", 1, type=int),
        )
        rounds = db.session.scalars(sa.select(Round).where(Round.kind == self.round_kind).order_by(Round.opens_on.desc())).all()
        return render(
            "filings/review_queue.html", wizard=self, page=page, chosen_status=status, rounds=rounds, cities=cities(),
            status_label=self.status_label, workflow=workflow,
            waiting=services.waiting_count(wizard=self, user=current_user),
            breadcrumb=[("审核管理", None), (f"{self.title}审核", None)],
        )

    def view_review(self, filing_id):
        """Review page: the filing, its history and the decisions this admin may make."""
        filing = services.visible_filing_or_404(self, filing_id, current_user)
        actions = [
            t for t in workflow.available(filing, current_user, self.levels)
            if t.level != "owner" and t.name not in self.hidden_actions
        ]
        error = None
        if request.method == "POST":
            if not EmptyForm().validate_on_submit():
                abort(400)
            try:
                if request.form.get("action", "") in self.hidden_actions:
                    raise services.FilingError("当前状态下不能执行该操作，请刷新页面查看最新状态。")
                transition = services.filing_transition(
                    wizard=self, filing=filing, action=request.form.get("action", ""), actor=current_user,
                    comment=request.form.get("comment"), pinned=request.form.getlist("pinned"),
                )
            except (services.FilingError, workflow.TransitionError) as exc:
                error = str(exc)
            else:
                flash(f"已{self.action_label(transition)}：{self.title}状态为“{self.status_label(filing.status)}”。", "success")
                return redirect_303(url_for(self.endpoint(f"review_{self.plural}")))
        context = self._show_context(filing)
        context.update(
            actions=actions, error=error, comment=request.form.get("comment", ""), chosen_pins=set(request.form.getlist("pinned")),
            breadcrumb=[("审核管理", None), (f"{self.title}审核", url_for(self.endpoint(f"review_{self.plural}"))), ("审核", None)],
        )
        return render("filings/review.html", status=422 if error else 200, **context)

    def view_export(self):
        """Excel export of every filing in the admin's scope (optionally one round)."""
        from app.filings.export import export_filings

        return export_filings(self, current_user, round_id=request.args.get("round_id", type=int))


def _named(view, endpoint):
    """Bound methods need a distinct __name__ per endpoint; the access policy stays on it."""

    def handler(**kwargs):
        return view(**kwargs)

    handler.__name__ = endpoint
    handler.__doc__ = view.__doc__
    return handler


def display_value(form_field, value):
    """A stored value as shown on 查看: choice labels, money with two decimals."""
    if value is None or value == "":
        return "—"
    choices = getattr(form_field, "choices", None)
    if choices:
        for item in choices:
            if isinstance(item, (tuple, list)) and str(item[0]) == str(value):
                return item[1]
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return value
