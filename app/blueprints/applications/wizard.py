"""The declaration of 核心服务机构申报 for the filing engine."""

from flask import url_for

from app.blueprints.applications.forms import BasicInfoForm, OperationsForm, label_years
from app.blueprints.applications.models import CoreApplication
from app.blueprints.applications.services import recognition_grant
from app.filings import workflow
from app.filings.hooks import Hooks
from app.filings.wizard import Endpoints, Step, Wizard

TEMPLATES = [
    ("outline", "核心服务机构申请报告提纲"),
    ("staff", "服务机构服务人员基本情况表"),
    ("clients", "服务机构服务对象情况表"),
    ("declaration", "真实性声明"),
]


class ApplicationHooks(Hooks):
    def on_transition(self, wizard, filing, transition, actor):
        """终审通过 records the recognition (认定) and its term."""
        if transition.target == workflow.APPROVED:
            recognition_grant(application=filing, actor=actor)


def _operations_context(filing):
    return {
        "template_links": [
            (title, url_for("applications.download_template", filing_id=filing.id, name=name))
            for name, title in TEMPLATES
        ]
    }


wizard = Wizard(
    kind="application",
    hooks=ApplicationHooks(),
    model=CoreApplication,
    blueprint="applications",
    endpoints=Endpoints(
        list="applications.list_applications",
        new="applications.new_application",
        edit="applications.edit_application",
        attachments="applications.edit_application_attachments",
        delete_attachment="applications.delete_application_attachment",
        download="applications.download_application_attachment",
        submit="applications.submit_application",
        show="applications.show_application",
        delete="applications.delete_application",
        withdraw="applications.withdraw_application",
        queue="applications.review_applications",
        review="applications.review_application",
        approve_selected="applications.approve_selected_applications",
        export="applications.export_applications",
    ),
    title="核心服务机构申报",
    round_kind="application",
    steps=[
        Step("basic", "基本信息", BasicInfoForm, "applications/_partials/_step_basic.html"),
        Step(
            "operations",
            "服务经营情况",
            OperationsForm,
            "applications/_partials/_step_operations.html",
            prepare=label_years,
            context=_operations_context,
        ),
    ],
    attachment_title="申报证明材料上传",
    levels=("city", "province"),
    breadcrumb_root="申报管理",
    breadcrumb_section="核心服务机构调度管理",
    edit_label="编辑服务机构申报信息",
    new_label="机构申报",
    submit_label="提交申报",
    duplicate_message="本批次已提交过核心服务机构申报，每个机构每批次只能申报一次。请在列表中编辑已有的申报。",
    status_labels={
        workflow.SUBMITTED: "待初审",
        workflow.CITY_APPROVED: "初审通过（待终审）",
        workflow.APPROVED: "已认定",
        workflow.REJECTED: "不予认定",
    },
    action_labels={"province_approve": "通过（认定）", "province_reject": "不予认定"},
    list_columns=[("申报批次", lambda f: f.round.title, "")],
)
