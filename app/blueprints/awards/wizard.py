"""The three 优秀评选 filings declared for the engine: a 基本信息 step, then 申报证明材料上传."""

from markupsafe import Markup

from app.blueprints.awards.forms import ExpertBasicForm, InstitutionBasicForm, ProductBasicForm, prepare_category
from app.blueprints.awards.lookups import publication_started, report_totals, result_clear
from app.blueprints.awards.models import ExpertNomination, InstitutionNomination, ProductNomination
from app.filings import workflow
from app.filings.hooks import Hooks
from app.filings.wizard import Endpoints, Step, Wizard
from app.utils import local_today

STATUS_LABELS = {
    workflow.SUBMITTED: "待资格审查",
    workflow.CITY_APPROVED: "资格审查通过（待评审）",
    workflow.APPROVED: "入选",
    workflow.REJECTED: "未入选",
}
# "unpublish" is no transition: 撤销发布 (publication.results_unpublish) records it on each nomination
ACTION_LABELS = {
    "city_approve": "资格审查通过",
    "province_approve": "入选",
    "province_reject": "未入选",
    "unpublish": "撤销发布",
}


class AwardHooks(Hooks):
    """Common to the three kinds: one nomination per owner and 评选年度 where the kind wants it,
    and 入选 / 未入选 made only by publication (awards.services.results_publish)."""

    # long texts keep the writer's line breaks on 查看 / 审核
    text_fields: tuple = ()

    def unique_key(self, wizard, *, user, round):
        # keyed by the year, so a second 评选年度 in the same year cannot allow a second one
        if not wizard.one_per_round:
            return None
        owner = f"i{user.institution.id}" if user.institution else f"u{user.id}"
        return f"{wizard.kind}:{owner}:{round.year}"

    def locked_message(self, wizard, filing):
        """Nominations close at the round's deadline and for good once the 公示 has begun (a
        nomination sent back for correction stays open until the 公示)."""
        if publication_started(filing.round):
            return f"{filing.round.title}已进入公示，申报不能再修改或提交。"
        if filing.status != workflow.RETURNED and local_today() > filing.round.closes_on:
            return f"{filing.round.title}的申报已于 {filing.round.closes_on:%Y-%m-%d} 截止，不能再修改或提交。"
        return None

    def creatable_rounds(self, wizard, user):
        rounds = super().creatable_rounds(wizard, user)
        return [r for r in rounds if not publication_started(r)]

    def on_transition(self, wizard, filing, transition, actor):
        """A nomination the province sends back loses its recorded 入选 / 未入选."""
        if transition.name == "province_return":
            result_clear(filing)

    def detail_html(self, wizard, filing):
        return {name: text_html(getattr(filing, name)) for name in self.text_fields if getattr(filing, name, None)}


class InstitutionHooks(AwardHooks):
    text_fields = ("honors", "intro")
    FIGURES = {"staff_count": "人", "served_count": "家次", "activity_count": "场次", "revenue": "万元"}

    def detail_html(self, wizard, filing):
        """Beside the typed figures: the year's monthly report totals, when the reports module has any."""
        html = super().detail_html(wizard, filing)
        totals = _report_totals(filing) or {}
        for name, unit in self.FIGURES.items():
            value = getattr(filing, name)
            if value is None or totals.get(name) is None:
                continue
            html[name] = Markup('{} {} <span class="muted">（{}年月度调度合计：{} {}）</span>').format(
                f"{value:,.2f}" if name == "revenue" else value, unit, filing.round.year - 1, totals[name], unit
            )
        return html


class ProductHooks(AwardHooks):
    text_fields = ("intro",)

    def detail_html(self, wizard, filing):
        html = super().detail_html(wizard, filing)
        if filing.point_list:
            html["points"] = point_list_html(filing.point_list)
        return html


class ExpertHooks(AwardHooks):
    text_fields = ("bio", "achievements")

    def unique_key(self, wizard, *, user, round):
        """An expert nominates itself once a year; an institution may nominate several experts."""
        if user.role != "expert":
            return None
        return f"{wizard.kind}:u{user.id}:{round.year}"

    def prefill(self, wizard, filing, *, user):
        """An expert nominating itself starts from its 基本资料."""
        expert = user.expert if user.role == "expert" else None
        if expert is None:
            return
        filing.nominee_id = user.id
        filing.name = expert.name
        filing.gender = expert.gender
        filing.employer = expert.employer
        filing.title = expert.title
        filing.category_id = expert.category_id
        filing.phone = expert.phone
        filing.bio = expert.bio
        filing.age = _age(expert.birth_month)
        filing.city_code = expert.city_code


def _age(birth_month):
    try:
        year, month = (int(part) for part in (birth_month or "").split("-")[:2])
    except ValueError:
        return None
    today = local_today()
    return today.year - year - (1 if today.month < month else 0)


def _report_totals(filing):
    return report_totals(filing)


def _institution_context(filing):
    return {"report_totals": _report_totals(filing), "figures_year": filing.round.year - 1}


def _product_context(filing):
    return {"points_hint": "请输入服务产品示范性或创新性说明，请逐条列明（每行一条）。"}


COMMON = dict(
    blueprint="awards",
    round_kind="award",
    attachment_title="申报证明材料上传",
    levels=("city", "province"),
    breadcrumb_root="申报管理",
    breadcrumb_section="核心服务机构调度管理",
    status_labels=STATUS_LABELS,
    action_labels=ACTION_LABELS,
    hidden_actions=("province_approve", "province_reject"),
)

institution_wizard = Wizard(
    kind="institution_nomination",
    hooks=InstitutionHooks(),
    short_title="优秀服务机构",
    slug="institutions",
    model=InstitutionNomination,
    endpoints=Endpoints(
        list="awards.list_institution_nominations",
        new="awards.new_institution_nomination",
        edit="awards.edit_institution_nomination",
        attachments="awards.edit_institution_nomination_attachments",
        delete_attachment="awards.delete_institution_nomination_attachment",
        download="awards.download_institution_nomination_attachment",
        submit="awards.submit_institution_nomination",
        show="awards.show_institution_nomination",
        delete="awards.delete_institution_nomination",
        withdraw="awards.withdraw_institution_nomination",
        queue="awards.review_institution_nominations",
        review="awards.review_institution_nomination",
        approve_selected="awards.approve_selected_institution_nominations",
        export="awards.export_institution_nominations",
    ),
    title="优秀服务机构申报",
    steps=[
        Step(
            "basic",
            "基本信息",
            InstitutionBasicForm,
            "awards/_partials/_step_institution.html",
            context=_institution_context,
        )
    ],
    owner_roles=("institution",),
    edit_label="编辑优秀服务机构申报信息",
    new_label="优秀服务机构填报",
    submit_label="提交申报",
    list_label="优秀服务机构申报评选",
    url_prefix="/institutions",
    one_per_round=True,
    duplicate_message="本评选年度已填报过优秀服务机构申报，每个机构每年只能申报一次。请在列表中编辑已有的申报。",
    list_columns=[("评选年度", lambda f: f.round.title, "")],
    **COMMON,
)

product_wizard = Wizard(
    kind="product_nomination",
    hooks=ProductHooks(),
    short_title="优秀服务产品",
    slug="products",
    model=ProductNomination,
    endpoints=Endpoints(
        list="awards.list_product_nominations",
        new="awards.new_product_nomination",
        edit="awards.edit_product_nomination",
        attachments="awards.edit_product_nomination_attachments",
        delete_attachment="awards.delete_product_nomination_attachment",
        download="awards.download_product_nomination_attachment",
        submit="awards.submit_product_nomination",
        show="awards.show_product_nomination",
        delete="awards.delete_product_nomination",
        withdraw="awards.withdraw_product_nomination",
        queue="awards.review_product_nominations",
        review="awards.review_product_nomination",
        approve_selected="awards.approve_selected_product_nominations",
        export="awards.export_product_nominations",
    ),
    title="优秀服务产品申报",
    steps=[
        Step(
            "basic",
            "基本信息",
            ProductBasicForm,
            "awards/_partials/_step_product.html",
            prepare=prepare_category,
            context=_product_context,
        )
    ],
    owner_roles=("institution",),
    edit_label="编辑优秀服务产品申报信息",
    new_label="优秀服务产品填报",
    submit_label="提交申报",
    list_label="优秀服务产品申报评选",
    url_prefix="/products",
    one_per_round=False,
    list_columns=[
        ("产品名称", lambda f: f.product_name or "（未填写）", ""),
        ("服务类别", lambda f: f.category.name if f.category else "", ""),
        ("收费方式", lambda f: f.charge_mode or "", ""),
        ("评选年度", lambda f: f.round.title, ""),
    ],
    **COMMON,
)

expert_wizard = Wizard(
    kind="expert_nomination",
    hooks=ExpertHooks(),
    short_title="优秀服务专家",
    slug="experts",
    model=ExpertNomination,
    endpoints=Endpoints(
        list="awards.list_expert_nominations",
        new="awards.new_expert_nomination",
        edit="awards.edit_expert_nomination",
        attachments="awards.edit_expert_nomination_attachments",
        delete_attachment="awards.delete_expert_nomination_attachment",
        download="awards.download_expert_nomination_attachment",
        submit="awards.submit_expert_nomination",
        show="awards.show_expert_nomination",
        delete="awards.delete_expert_nomination",
        withdraw="awards.withdraw_expert_nomination",
        queue="awards.review_expert_nominations",
        review="awards.review_expert_nomination",
        approve_selected="awards.approve_selected_expert_nominations",
        export="awards.export_expert_nominations",
    ),
    title="优秀服务专家申报",
    steps=[Step("basic", "基本信息", ExpertBasicForm, "awards/_partials/_step_expert.html", prepare=prepare_category)],
    owner_roles=("institution", "expert"),
    needs_institution=False,
    edit_label="编辑优秀服务专家申报信息",
    new_label="优秀服务专家填报",
    submit_label="提交申报",
    list_label="优秀服务专家申报评选",
    url_prefix="/experts",
    one_per_round=True,
    owner_columns=False,
    duplicate_message="您本评选年度已填报过优秀服务专家申报（本人每年只能申报一次）。请在列表中编辑已有的申报。",
    list_columns=[
        ("姓名", lambda f: f.name or "（未填写）", ""),
        ("年龄", lambda f: f.age if f.age is not None else "", "num"),
        ("工作单位", lambda f: f.employer or "", ""),
    ],
    **COMMON,
)

WIZARDS = [institution_wizard, product_wizard, expert_wizard]
BY_SLUG = {w.slug: w for w in WIZARDS}
BY_KIND = {w.kind: w for w in WIZARDS}


def wizard_of(filing):
    return BY_KIND[filing.kind]


def point_list_html(points):
    """产品说明 as a numbered list (each point escaped)."""
    return Markup('<ol class="points">{}</ol>').format(Markup("").join(Markup("<li>{}</li>").format(p) for p in points))


def text_html(text):
    return Markup('<div class="award-text">{}</div>').format(text)
