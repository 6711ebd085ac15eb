"""Forms of 企业投诉: 投诉登记, 处理结果 lookup, rating, and the handling actions of admins."""

from flask_wtf.file import MultipleFileField
from wtforms import DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import TelField
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.blueprints.auth.forms import CaptchaMixin
from app.blueprints.complaints.models import RATING_LABELS, STATUS_LABELS
from app.forms import BaseForm, CharCount, Mobile, Phone, required
from app.reference.services import cities, region_name

CONTENT_MIN, CONTENT_MAX = 10, 2000
MAX_FILES = 5


def city_choices(blank):
    return [("", blank)] + [(city.code, city.name) for city in cities()]


class ComplaintForm(CaptchaMixin, BaseForm):
    """投诉登记: the manual's fields, optional evidence, then the image captcha."""

    captcha_scope = "complaint"

    company_name = StringField("单位名称", validators=[required("请输入投诉企业的单位名称。"), Length(max=200)])
    contact_name = StringField("联系人", validators=[required("请输入联系人。"), Length(max=60)])
    phone = TelField(
        "联系电话",
        validators=[
            required("请输入联系电话（手机号码）。"),
            Mobile("请输入正确的 11 位手机号码，用于接收验证码和查询处理结果。"),
        ],
    )
    respondent_name = StringField("单位名称", validators=[required("请输入被投诉方的单位名称。"), Length(max=200)])
    respondent_city_code = SelectField(
        "所属市州", validators=[required("请选择被投诉方所属市州。")], validate_choice=False
    )
    respondent_address = StringField("详细地址", validators=[required("请输入被投诉方的详细地址。"), Length(max=300)])
    respondent_contact = StringField("联系人", validators=[required("请输入被投诉方的联系人。"), Length(max=60)])
    respondent_phone = TelField("联系电话", validators=[required("请输入被投诉方的联系电话。"), Phone()])
    content = TextAreaField(
        "投诉事项",
        validators=[
            required(f"请输入投诉事项（{CONTENT_MIN}-{CONTENT_MAX} 字）。"),
            CharCount(CONTENT_MIN, CONTENT_MAX),
        ],
    )
    evidence = MultipleFileField("证据材料")
    remove_attachments = SelectMultipleField(
        "删除已上传的材料",
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    captcha = StringField("验证码", validators=[required("请输入图形验证码。")])

    def fill_choices(self, kept_attachments=()):
        self.respondent_city_code.choices = city_choices("请选择市州")
        self.remove_attachments.choices = [(a.id, a.original_name) for a in kept_attachments]
        self.kept_count = len(kept_attachments)

    def validate_respondent_city_code(self, field):
        if field.data and not region_name(field.data):
            raise ValidationError("请选择被投诉方所属市州。")

    def validate_evidence(self, field):
        chosen = [f for f in (field.data or []) if getattr(f, "filename", "")]
        field.data = chosen
        kept = getattr(self, "kept_count", 0) - len(self.remove_attachments.data or [])
        if kept + len(chosen) > MAX_FILES:
            raise ValidationError(
                f"证据材料最多 {MAX_FILES} 个文件（已上传 {kept} 个），文件较多时请打包为压缩包上传。"
            )


class SmsCodeForm(BaseForm):
    """The 6-digit code sent by SMS."""

    sms_code = StringField(
        "短信验证码",
        validators=[required("请输入短信验证码。"), Length(min=6, max=6, message="短信验证码为 6 位数字。")],
    )

    def validate_sms_code(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("短信验证码为 6 位数字。")


class LookupForm(CaptchaMixin, BaseForm):
    """处理结果: 手机号码 + 验证码."""

    captcha_scope = "lookup"

    phone = TelField("手机号码", validators=[required("请输入手机号码。"), Mobile()])
    captcha = StringField("验证码", validators=[required("请输入图形验证码。")])


class RatingForm(BaseForm):
    """评价 after 已办结."""

    rating = RadioField("评价", choices=list(RATING_LABELS.items()), validators=[required("请选择评价。")])
    note = TextAreaField("评价说明", validators=[Optional(), Length(max=500, message="评价说明请在 500 字以内。")])


# --- admin ------------------------------------------------------------------------------------


class QueueFilterForm(BaseForm):
    """投诉列表 filters (GET, no CSRF): a value that does not validate counts as empty."""

    class Meta:
        csrf = False

    status = SelectField("状态", choices=[("", "全部")] + list(STATUS_LABELS.items()), validate_choice=False)
    city_code = SelectField("被投诉方市州", validate_choice=False)
    date_from = DateField("登记日期从", validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField("至", validators=[Optional()], format="%Y-%m-%d")
    overdue = SelectField("办理期限", choices=[("", "全部"), ("1", "已超期")], validate_choice=False)
    q = StringField("关键字", validators=[Optional(), Length(max=60)])

    def fill_choices(self):
        self.city_code.choices = city_choices("全部")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("截止日期不能早于起始日期。")

    def values(self):
        self.validate()
        values = {name: (None if field.errors else (field.data or None)) for name, field in self._fields.items()}
        if values["status"] not in STATUS_LABELS:
            values["status"] = None
        if values["city_code"] and not region_name(values["city_code"]):
            values["city_code"] = None
        values["overdue"] = values["overdue"] == "1"
        return values


class ActionForm(BaseForm):
    """One handling action; ``service_fields`` go to services.complaint_act."""

    service_fields = ()
    done_label = ""

    def data_for_service(self):
        return {name: self[name].data for name in self.service_fields}


class AcceptForm(ActionForm):
    service_fields, done_label = ("note",), "受理"
    note = TextAreaField("受理意见", validators=[Optional(), Length(max=1000)])


class RejectForm(ActionForm):
    service_fields, done_label = ("reason",), "不予受理，已短信告知投诉人"
    reason = TextAreaField("不予受理理由", validators=[required("请填写不予受理理由。"), Length(max=1000)])


class TransferForm(ActionForm):
    service_fields, done_label = ("city_code", "note"), "转办"
    city_code = SelectField("转办至", validators=[required("请选择转办的市州。")], validate_choice=False)
    note = TextAreaField("转办说明", validators=[Optional(), Length(max=1000)])

    def fill_choices(self):
        self.city_code.choices = [(city.code, f"{city.name}工信局") for city in cities()]


class StartForm(ActionForm):
    service_fields, done_label = ("note",), "开始处理"
    note = TextAreaField("处理说明", validators=[Optional(), Length(max=1000)])


class CloseForm(ActionForm):
    service_fields, done_label = ("result",), "办结，已短信通知投诉人查看结果"
    result = TextAreaField(
        "处理结果", validators=[required("请填写处理结果，投诉人将看到此内容。"), CharCount(5, 2000)]
    )


class ExtendForm(ActionForm):
    service_fields, done_label = ("days", "reason"), "延期"
    days = IntegerField(
        "延长",
        validators=[required("请填写延长的工作日数。"), NumberRange(1, 30, "请填写 1-30 个工作日。")],
        description="个工作日",
    )
    reason = TextAreaField("延期理由", validators=[required("请填写延期理由。"), Length(max=1000)])


ACTION_FORMS = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "transfer": TransferForm,
    "start": StartForm,
    "close": CloseForm,
    "extend": ExtendForm,
}


class StatsFilterForm(BaseForm):
    class Meta:
        csrf = False

    year = IntegerField("年度", validators=[Optional(), NumberRange(2000, 2100, "请输入正确的年度。")])
