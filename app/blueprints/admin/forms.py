"""Forms of the admin pages: list filters (GET, no CSRF) and the edit forms."""

import re

import sqlalchemy as sa
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, Length, Optional, StopValidation, ValidationError

from app.blueprints.auth.models import ROLE_LABELS, STATUS_LABELS, PhoneChangeRequest, User
from app.extensions import db
from app.forms import BaseForm, Mobile, PasswordPolicy, input_required, required
from app.reference.models import DICT_KINDS, Platform
from app.reference.services import cities, region_name
from app.sms import STATUS_LABELS as SMS_STATUS_LABELS


def sort_order_range(form, field):
    """排序: an integer 0-9999; a non-number already carries the field's own message."""
    if field.data is None:
        raise StopValidation()
    if not 0 <= field.data <= 9999:
        raise ValidationError("排序号为 0 到 9999 的整数。")


class FilterForm(BaseForm):
    """A GET filter bar: read from the query string, never refuses the page."""

    class Meta:
        csrf = False

    def values(self):
        """The filter values; a field that did not validate counts as empty."""
        self.validate()
        return {name: (None if field.errors else (field.data or None)) for name, field in self._fields.items()}


def _city_choices(blank):
    return [("", blank)] + [(city.code, city.name) for city in cities()]


class UserFilterForm(FilterForm):
    role = SelectField("类型", validate_choice=False)
    city_code = SelectField("市州", validate_choice=False)
    status = SelectField("状态", choices=[("", "全部")] + list(STATUS_LABELS.items()), validate_choice=False)
    q = StringField("关键字", validators=[Length(max=60)])

    def fill_choices(self, viewer):
        roles = (
            list(ROLE_LABELS)
            if viewer.role == "province_admin"
            else ["institution", "expert", "enterprise", "city_admin"]
        )
        self.role.choices = [("", "全部")] + [(role, ROLE_LABELS[role]) for role in roles]
        self.city_code.choices = _city_choices("全部")


class DateRangeMixin:
    date_from = DateField("起始日期", validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField("截止日期", validators=[Optional()], format="%Y-%m-%d")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("截止日期不能早于起始日期。")


class LoginLogFilterForm(DateRangeMixin, FilterForm):
    result = SelectField("结果", choices=[("", "全部"), ("ok", "成功"), ("fail", "失败")], validate_choice=False)
    username = StringField("帐户名称", validators=[Length(max=120)])


class AuditFilterForm(DateRangeMixin, FilterForm):
    actor = StringField("操作人", validators=[Length(max=120)])
    action = SelectField("操作", validate_choice=False)
    target_type = SelectField("对象", validate_choice=False)
    institution = StringField("机构", validators=[Length(max=100)])


class SmsFilterForm(FilterForm):
    phone = StringField("手机号", validators=[Length(max=20)])
    status = SelectField("状态", choices=[("", "全部"), *SMS_STATUS_LABELS.items()], validate_choice=False)


class PhoneRequestFilterForm(FilterForm):
    status = SelectField(
        "状态",
        choices=list(PhoneChangeRequest.STATUS_LABELS.items()) + [("all", "全部")],
        default="pending",
        validate_choice=False,
    )


class NewAdminForm(BaseForm):
    """新增管理员: a 市州管理员 (needs its 市州) or a 省级管理员."""

    username = StringField(
        "帐户名称", validators=[required("请输入帐户名称。"), Length(max=120, message="帐户名称不能超过 120 个字符。")]
    )
    display_name = StringField("显示名称", validators=[required("请输入显示名称。"), Length(max=120)])
    role = SelectField(
        "角色", choices=[("city_admin", "市州管理员"), ("province_admin", "省级管理员")], default="city_admin"
    )
    city_code = SelectField("市州", validate_choice=False)
    phone = StringField("手机", validators=[required("请输入手机号码。"), Mobile()])
    password = PasswordField("初始密码", validators=[required("请输入初始密码。"), PasswordPolicy("username")])
    confirm = PasswordField(
        "确认密码", validators=[required("请再次输入密码。"), EqualTo("password", "两次输入的密码不一致。")]
    )

    def fill_choices(self):
        self.city_code.choices = _city_choices("请选择市州")

    def validate_username(self, field):
        if re.search(r"\s", field.data):
            raise ValidationError("帐户名称不能包含空格。")
        if db.session.scalar(sa.select(User.id).where(User.username_key == field.data.lower())):
            raise ValidationError("该帐户名称已被使用。")

    def validate_city_code(self, field):
        if self.role.data == "city_admin" and not (field.data and region_name(field.data)):
            raise ValidationError("市州管理员必须选择所属市州。")


class DictItemForm(BaseForm):
    name = StringField(
        "名称", validators=[required("请输入名称。"), Length(max=60, message="名称不能超过 60 个字符。")]
    )
    code = StringField(
        "信用代码前缀", validators=[Optional(), Length(min=2, max=2, message="请输入 2 位前缀，如 91。")]
    )
    sort_order = IntegerField("排序", validators=[input_required("请输入排序号。"), sort_order_range])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, kind, item_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.item_id = item_id

    def validate_code(self, field):
        if field.data:
            field.data = field.data.upper()
            if not re.fullmatch(r"[0-9A-Y]{2}", field.data):
                raise ValidationError("信用代码前缀为 2 位数字或大写字母，如 91。")

    def validate_name(self, field):
        cls = DICT_KINDS[self.kind]
        criteria = [cls.name == field.data]
        if self.item_id:
            criteria.append(cls.id != self.item_id)
        if db.session.scalar(sa.select(sa.func.count(cls.id)).where(*criteria)):
            raise ValidationError(f"{cls.label}中已有“{field.data}”。")


class PlatformForm(BaseForm):
    name = StringField(
        "平台名称", validators=[required("请输入平台名称。"), Length(max=80, message="平台名称不能超过 80 个字符。")]
    )
    city_code = SelectField("所属市州", validate_choice=False)
    sort_order = IntegerField("排序", validators=[input_required("请输入排序号。"), sort_order_range])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, platform_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.platform_id = platform_id
        self.city_code.choices = _city_choices("全省（不属于某个市州）")

    def validate_name(self, field):
        criteria = [Platform.name == field.data]
        if self.platform_id:
            criteria.append(Platform.id != self.platform_id)
        if db.session.scalar(sa.select(sa.func.count(Platform.id)).where(*criteria)):
            raise ValidationError(f"已有名为“{field.data}”的平台。")

    def validate_city_code(self, field):
        if field.data and not region_name(field.data):
            raise ValidationError("请选择所属市州。")


class PhoneDecisionForm(BaseForm):
    """通过 / 驳回: two submit buttons named ``decision``; 驳回 needs a 处理意见."""

    decision = StringField("处理结果")
    note = TextAreaField("处理意见", validators=[Length(max=500, message="处理意见不能超过 500 字。")])

    def validate_decision(self, field):
        if field.data not in ("approve", "reject"):
            raise ValidationError("请选择通过或驳回。")

    def validate_note(self, field):
        if self.decision.data == "reject" and not field.data:
            raise ValidationError("驳回时请填写处理意见。")
