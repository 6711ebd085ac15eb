"""The declaration of a filing kind: its steps, forms, labels, review levels and endpoint names.

A module declares one ``Wizard`` (ordered steps, each a form plus a partial template, and its
``Endpoints`` written out literally), gives it its ``Hooks`` (app/filings/hooks.py: the module's own
rules) and has the engine's views served on its blueprint with
``app.filings.views.register_views(bp, wizard)``: list, create, steps, attachments, submit, view,
delete, withdraw, the review queue, the review decision and the Excel export. Step URLs are real
(``/<module>/<id>/step/<slug>``): GET shows the step, POST validates and saves; htmx gets the next
step's fragment with HX-Push-Url, a plain browser a 303 redirect.

This module holds declarations and the helpers that follow from them only; no view, no query.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from flask import url_for

from app.filings import services, workflow
from app.filings.hooks import Hooks


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
    approve_selected: str  # 通过所选 on the review queue
    export: str  # Excel


@dataclass(eq=False)  # one per filing kind: equal only to itself, and hashable (kept statements are keyed by it)
class Wizard:
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
    hooks: Hooks = field(default_factory=Hooks)  # the module's own rules (app/filings/hooks.py)
    # a module's own Excel for endpoints.export (run as a job, app/filings/export.py):
    # export_write(wizard, out, *, user, filters, criteria, progress) writes the .xlsx into ``out``
    # and returns its download name; ``filters`` are the queue's as the generic export takes them
    # (round_id, city_code, status, keyword, type_id, late, sort, descending), ``criteria`` what
    # export_criteria(args) read from the 导出Excel query (JSON-ready; {} without it)
    export_write: Callable | None = None
    export_criteria: Callable | None = None
    short_title: str = ""  # e.g. 优秀服务机构, where several kinds share a page
    slug: str = ""  # e.g. "institutions": the kind's name in a module's own URLs

    ATTACHMENTS = "attachments"

    # ---- helpers ---------------------------------------------------------------------------
    def status_label(self, status):
        return self.status_labels.get(status) or workflow.STATUS_LABELS[status]

    def action_label(self, transition):
        return self.action_labels.get(transition.name) or transition.label

    def event_label(self, event):
        """The name of a recorded transition, or of an event the module records itself (its
        ``action_labels``, e.g. 撤销发布); an action code no longer known shows as it is."""
        try:
            return self.action_label(workflow.find(self.levels, event.action))
        except workflow.TransitionError:
            return self.action_labels.get(event.action, event.action)

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
        return self.step_url_by_id(filing.id, slug)

    def step_url_by_id(self, filing_id, slug):
        """The step's URL from the filing's id alone: what a view redirects to after its commit,
        without reloading the filing the commit expired."""
        if slug == self.ATTACHMENTS:
            return url_for(self.endpoints.attachments, filing_id=filing_id)
        return url_for(self.endpoints.edit, filing_id=filing_id, slug=slug)

    def tabs(self, filing, current):
        """The step tabs: (title, url or None when not reachable yet, is current, is complete);
        the attachment step is complete with at least ``min_attachments`` files."""
        reachable = self.slugs()[: self.slugs().index(self.first_incomplete(filing)) + 1]
        titles = [(s.slug, s.title) for s in self.steps] + [(self.ATTACHMENTS, self.attachment_title)]
        done = set(filing.steps_done or [])
        if services.attachment_count(filing) >= max(self.min_attachments, 1):
            done.add(self.ATTACHMENTS)
        return [
            (title, self.step_url(filing, slug) if slug in reachable else None, slug == current, slug in done)
            for slug, title in titles
        ]

    def pinned(self, filing):
        """Field and attachment keys the latest 退回 pinned, and its comment, while the filing is
        still returned (for its owner's steps)."""
        return services.last_pins(filing) if filing.status == workflow.RETURNED else (set(), None)

    def breadcrumb(self, filing=None, label=None):
        return [
            (self.breadcrumb_root, None),
            (self.breadcrumb_section, url_for(self.endpoints.list)),
            (label or self.edit_heading(), None),
        ]

    def review_statuses(self):
        """The statuses a filing of this kind can be in once submitted, in the engine's order (the
        review queue's filter offers only these: a one-level kind has no 市级初审通过)."""
        reachable = {workflow.SUBMITTED} | {t.target for t in workflow.transitions(self.levels)}
        return [code for code in workflow.STATUS_LABELS if code in reachable and code != workflow.DRAFT]

    def audit_labels(self):
        """({action code: name}, {model name: name}) of this kind, for the 操作日志 page."""
        actions = {f"{self.kind}.create": f"新建{self.title}", f"{self.kind}.delete": f"删除{self.title}"}
        transitions = workflow.transitions(self.levels)
        plain = [self.action_label(t) for t in transitions]
        for transition, label in zip(transitions, plain):
            if plain.count(label) > 1 and transition.level in ("city", "province"):
                # both levels may 退回: say which one did
                label = f"{'市级' if transition.level == 'city' else '省级'}{label}"
            actions.setdefault(f"{self.kind}.{transition.name}", f"{self.title}：{label}")
        return actions, {self.model.__name__: self.title}

    def step_sections(self, filing):
        """Each step's fields as (title, [(label, value, unit, key)]): the default 查看 sections."""
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
