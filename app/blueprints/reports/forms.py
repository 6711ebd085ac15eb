"""基础数据填报 (manual 4(2)) and the admin forms of 核心服务机构调度管理."""

from functools import lru_cache

from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.blueprints.reports.models import SITE_TYPES, category_field_names
from app.blueprints.reports.services import anomaly_text, form_figures, report_anomalies
from app.forms import BaseForm, CountField, MoneyField, input_required, required
from app.utils import local_today

ACTIVITY_HINT = (
    "XXX服务活动数，指的是调度期内开展的服务活动数量，参与企业数指的是参与活动的企业数量，"
    "服务企业数指的是“一对一”精准服务企业的数量。"
)


class ReportForm(BaseForm):
    """The fixed part of 基本信息; the 服务类别 blocks are added per report by ``report_form_class``."""

    institution_type_id = RadioField(
        "机构类型", coerce=int, validators=[input_required("请选择机构类型。")], validate_choice=True
    )
    floor_area = MoneyField("服务场所", [input_required("请输入服务场所面积(平方米)。")], unit="平方米")
    service_assets = MoneyField("服务资产", [input_required("请输入服务资产(万元)。")])
    site_type = RadioField(
        "服务场所类型", choices=[(t, t) for t in SITE_TYPES], validators=[input_required("请选择服务场所类型。")]
    )
    staff_count = CountField("服务人员数", [input_required("请输入服务人员数。")], unit="人")
    bachelor_count = CountField("本科人数", [input_required("请输入本科人数。")], unit="人")
    intermediate_count = CountField("中级职称人数", [input_required("请输入中级职称人数。")], unit="人")
    revenue = MoneyField("营业收入", [input_required("请输入营业收入(万元)。")])
    service_expense = MoneyField("服务支出", [input_required("请输入服务支出(万元)。")])
    profit = MoneyField("利润总额", [input_required("请输入利润总额(万元)，亏损填负数。")], allow_negative=True)

    def validate_bachelor_count(self, field):
        if field.data is not None and self.staff_count.data is not None and field.data > self.staff_count.data:
            raise ValidationError("本科人数不能超过服务人员数。")

    def validate_intermediate_count(self, field):
        if field.data is not None and self.staff_count.data is not None and field.data > self.staff_count.data:
            raise ValidationError("中级职称人数不能超过服务人员数。")

    def validate_profit(self, field):
        if field.data is not None and self.revenue.data is not None and field.data > self.revenue.data:
            raise ValidationError("利润总额不能超过营业收入。")

    def figures(self):
        """What was typed, as {figure key: number} for the anomaly check (see services.FIGURES)."""
        return form_figures(self)

    def validate_anomaly_note(self, field):
        """More than ×3 (or 0 → large) against last month is accepted only with an explanation."""
        filing = getattr(self, "filing", None)
        if filing is None or field.data:
            return
        if any(f.errors for f in self if f.name != "anomaly_note"):
            return  # fix the figures first; the comparison would be meaningless
        found = report_anomalies(filing, self.figures())
        if found:
            raise ValidationError(f"与上月相比变化较大：{anomaly_text(found)}。请用一句话说明原因。")


@lru_cache(maxsize=64)
def _form_class(categories):
    fields = {}
    for category_id, name in categories:
        activities, participants, served = category_field_names(category_id)
        fields[activities] = CountField(f"{name}活动数", [Optional()], unit="场次")
        fields[participants] = CountField(f"{name}·参与企业数", [Optional()], unit="家")
        fields[served] = CountField(f"{name}·服务企业数", [Optional()], unit="家次")
    fields["anomaly_note"] = StringField(
        "异常说明",
        [Length(max=100, message="请在100字以内说明。")],
    )
    return type("MonthlyReportForm", (ReportForm,), fields)


def report_form_class(report):
    """The form of one report: the fixed fields plus one block per 服务类别 kept on the report."""
    return _form_class(tuple((row.category_id, row.category_name) for row in report.activities))


# ---- institution side -------------------------------------------------------------------------


class ReopenForm(BaseForm):
    reason = TextAreaField("申请理由", [required("请填写申请补报的理由。"), Length(max=300, message="请在300字以内。")])


# ---- admin side -------------------------------------------------------------------------------


class ReopenDecisionForm(BaseForm):
    decision = RadioField(
        "处理结果",
        choices=[("grant", "同意补报"), ("refuse", "不同意")],
        validators=[input_required("请选择处理结果。")],
    )
    until = DateField("补报截止日期", [Optional()], format="%Y-%m-%d")
    note = StringField("处理意见", [Length(max=300, message="请在300字以内。")])

    def validate(self, extra_validators=None):
        """补报截止日期 is needed to grant, 处理意见 to refuse (Optional fields stop their own chain)."""
        ok = super().validate(extra_validators)
        if self.decision.data == "grant" and not self.until.errors:
            if self.until.data is None:
                self.until.errors = ["同意补报时请选择补报截止日期。"]
            elif self.until.data < local_today():
                self.until.errors = ["补报截止日期不能早于今天。"]
        if self.decision.data == "refuse" and not self.note.data:
            self.note.errors = [*self.note.errors, "不同意时请填写处理意见。"]
        return ok and not self.until.errors and not self.note.errors


class PeriodForm(BaseForm):
    """开启调度期: a month and its deadline (by default the 10th of the next month)."""

    year = IntegerField(
        "填报年度", [input_required("请输入填报年度。"), NumberRange(2000, 2100, "请输入四位年度，如 2026。")]
    )
    month = SelectField(
        "月份", coerce=int, choices=[(m, f"{m}月") for m in range(1, 13)], validators=[input_required("请选择月份。")]
    )
    opens_on = DateField("开始日期", [Optional()], format="%Y-%m-%d")
    closes_on = DateField("截止日期", [Optional()], format="%Y-%m-%d")

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("截止日期不能早于开始日期。")


class RecognitionForm(BaseForm):
    """直接认定: mark chosen institutions recognised for a term (e.g. the 2023-2026 list)."""

    term_start = IntegerField(
        "认定起始年度", [input_required("请输入认定起始年度。"), NumberRange(2000, 2100, "请输入四位年度。")]
    )
    term_end = IntegerField(
        "认定截止年度", [input_required("请输入认定截止年度。"), NumberRange(2000, 2100, "请输入四位年度。")]
    )
    note = StringField(
        "依据", [required("请填写认定依据，如认定文件名称或文号。"), Length(max=200, message="请在200字以内。")]
    )

    def validate_term_end(self, field):
        if field.data is not None and self.term_start.data is not None and field.data < self.term_start.data:
            raise ValidationError("截止年度不能早于起始年度。")
