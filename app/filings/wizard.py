"""Step / Wizard declarations: what a filing module declares (its views are in views.py).

A module declares its wizard (ordered steps, each a form plus a partial template, and its
``Endpoints`` written out literally) and calls ``wizard.register(bp)``; the engine serves list, create, steps, attachments, submit, view, delete,
withdraw, the review queue, the review decision and the Excel export. Step URLs are real
(``/<module>/<id>/step/<slug>``): GET shows the step, POST validates and saves; htmx gets the next
step's fragment with HX-Push-Url, a plain browser a 303 redirect.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from flask import url_for

from app.filings import services, workflow
from app.filings.views import WizardViews


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


@dataclass(frozen=True)
class Endpoints:
    """A filing module's endpoint names, written out in its wizard declaration so that a search for
    an endpoint finds where it is declared (the engine serves the views)."""

    list: str  # the owner's list
    new: str
    edit: str  # one step
    attachments: str  # the attachment step
    delete_attachment: str
    download: str  # an attachment, for the owner and reviewers
    submit: str
    show: str  # 查看
    delete: str
    withdraw: str
    queue: str  # the review queue
    review: str  # one review decision
    export: str  # Excel


@dataclass
class Wizard(WizardViews):
    kind: str  # audit prefix, e.g. "application"
    model: type
    blueprint: str
    title: str  # 核心服务机构申报
    round_kind: str
    steps: list
    endpoints: Endpoints
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
        all; the list page then lets the user choose, and ``endpoints.new`` takes a ``round_id``.
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
            return url_for(self.endpoints.attachments, filing_id=filing.id)
        return url_for(self.endpoints.edit, filing_id=filing.id, slug=slug)

    def tabs(self, filing, current):
        """The step tabs: (title, url or None when not reachable yet, is current)."""
        reachable = self.slugs()[: self.slugs().index(self.first_incomplete(filing)) + 1]
        titles = [(s.slug, s.title) for s in self.steps] + [(self.ATTACHMENTS, self.attachment_title)]
        return [
            (title, self.step_url(filing, slug) if slug in reachable else None, slug == current)
            for slug, title in titles
        ]

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
            (self.breadcrumb_section, url_for(self.endpoints.list)),
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
