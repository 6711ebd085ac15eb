"""基本资料 and 修改密码 forms."""

import re

from werkzeug.security import check_password_hash
from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.database import end_read_transaction
from app.forms import BaseForm, RegionMixin, required
from app.passwords import password_problem
from app.reference.services import dict_items, platforms
from app.utils import local_today

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def int_or_none(value):
    """Select values: "" (请选择) is None, so ``required()`` gives its own message."""
    if value in (None, ""):
        return None
    return int(value)


PICK = {"invalid_choice_message": "请从列表中选择。", "invalid_value_message": "请从列表中选择。"}


def _choices(items, prompt=None):
    choices = [(item.id, item.name + ("" if getattr(item, "active", True) else "（已停用）")) for item in items]
    return ([("", prompt)] if prompt else []) + choices


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the field macro lays them out like radios)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def bool_choice(value):
    return value if isinstance(value, bool) else value == "True"


class InstitutionProfileForm(RegionMixin, BaseForm):
    unit_nature_id = RadioField(
        "单位性质", coerce=int_or_none, validate_choice=False, **PICK, validators=[required("请选择单位性质。")]
    )
    platform_id = SelectField("所属平台", coerce=int_or_none, **PICK, validators=[required("请选择所属平台。")])
    institution_type_id = SelectField("机构类型", coerce=int_or_none, **PICK, validators=[Optional()])
    contact = StringField(
        "联系人", validators=[required("请填写联系人。"), Length(max=40, message="联系人不能超过 40 字。")]
    )
    address = StringField("地址", validators=[Optional(), Length(max=200, message="地址不能超过 200 字。")])
    email = StringField(
        "电子邮箱",
        validators=[
            Optional(),
            Length(max=120, message="电子邮箱不能超过 120 个字符。"),
            Email(message="请输入正确的电子邮箱地址，如 name@example.com。"),
        ],
        render_kw={"type": "email"},
    )
    intro = TextAreaField("机构简介", validators=[Optional(), Length(max=1000, message="机构简介不能超过 1000 字。")])
    # shown in the public 核心服务机构 directory once the institution is recognised
    service_category_ids = MultiCheckboxField("服务类别", coerce=int, validate_choice=False)
    publish_contact = RadioField(
        "对外公开联系方式",
        choices=[(True, "公开"), (False, "不公开")],
        coerce=bool_choice,
        default=False,
        validate_choice=False,
    )

    def fill_choices(self, profile):
        self.service_category_ids.choices = [
            (item.id, item.name + ("" if item.active else "（已停用）"))
            for item in dict_items("service_category") + [c for c in profile.service_categories if not c.active]
        ]
        self.unit_nature_id.choices = _choices(dict_items("unit_nature", include_id=profile.unit_nature_id))
        self.platform_id.choices = _choices(platforms(include_id=profile.platform_id), "请选择所属平台")
        self.institution_type_id.choices = _choices(
            dict_items("institution_type", include_id=profile.institution_type_id), "请选择机构类型"
        )
        self.fill_region_choices()

    def validate_unit_nature_id(self, field):
        # radios are checked here rather than by WTForms, which would add a second message to 请选择
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("请从列表中选择。")

    def validate_service_category_ids(self, field):
        if set(field.data or ()) - {value for value, _ in field.choices}:
            raise ValidationError("请从列表中选择服务类别。")

    def validate_publish_contact(self, field):
        if field.data not in (True, False):
            raise ValidationError("请选择是否公开联系方式。")


class ExpertProfileForm(RegionMixin, BaseForm):
    name = StringField("姓名", validators=[required("请填写姓名。"), Length(max=40, message="姓名不能超过 40 字。")])
    gender = RadioField(
        "性别",
        validate_choice=False,
        validators=[required("请选择性别。"), AnyOf(("男", "女"), message="请选择性别。")],
    )
    birth_month = StringField(
        "出生年月", validators=[required("请填写出生年月。")], render_kw={"type": "month", "placeholder": "1980-05"}
    )
    employer = StringField(
        "工作单位", validators=[required("请填写工作单位。"), Length(max=120, message="工作单位不能超过 120 字。")]
    )
    title = StringField("职称", validators=[required("请填写职称。"), Length(max=40, message="职称不能超过 40 字。")])
    category_id = SelectField("专业领域", coerce=int_or_none, **PICK, validators=[required("请选择专业领域。")])
    bio = TextAreaField("个人简介", validators=[Optional(), Length(max=500, message="个人简介不能超过 500 字。")])

    def fill_choices(self, profile):
        self.gender.choices = [("男", "男"), ("女", "女")]
        self.category_id.choices = _choices(
            dict_items("service_category", include_id=profile.category_id), "请选择专业领域"
        )
        self.fill_region_choices()

    def validate_birth_month(self, field):
        match = MONTH_RE.match(field.data or "")
        if not match:
            raise ValidationError("请按 1980-05 的格式填写出生年月。")
        year, month = int(match.group(1)), int(match.group(2))
        today = local_today()
        if year < 1920 or (year, month) > (today.year, today.month):
            raise ValidationError("出生年月不在合理范围内，请核对。")


class EnterpriseProfileForm(RegionMixin, BaseForm):
    contact = StringField(
        "联系人", validators=[required("请填写联系人。"), Length(max=40, message="联系人不能超过 40 字。")]
    )
    address = StringField("地址", validators=[Optional(), Length(max=200, message="地址不能超过 200 字。")])

    def fill_choices(self, profile):
        self.fill_region_choices()


class AdminProfileForm(BaseForm):
    display_name = StringField(
        "显示名称", validators=[required("请填写显示名称。"), Length(max=60, message="显示名称不能超过 60 字。")]
    )

    def fill_choices(self, profile):
        pass


PROFILE_FORMS = {
    "institution": InstitutionProfileForm,
    "expert": ExpertProfileForm,
    "enterprise": EnterpriseProfileForm,
    "city_admin": AdminProfileForm,
    "province_admin": AdminProfileForm,
}


def profile_form(user, formdata=None):
    """The 基本资料 form for the user's role: filled from the record on GET, from the post on POST
    (or from ``formdata``, fields kept when the session ended); choices include retired entries the
    record still uses."""
    record = user.profile if user.profile is not None else user
    form = PROFILE_FORMS[user.role](obj=record) if formdata is None else PROFILE_FORMS[user.role](formdata=formdata)
    form.fill_choices(record)
    return form


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "当前密码", validators=[required("请输入当前密码。")], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        "新密码", validators=[required("请输入新密码。")], render_kw={"autocomplete": "new-password"}
    )
    confirm_password = PasswordField(
        "确认新密码",
        validators=[required("请再次输入新密码。"), EqualTo("new_password", message="两次输入的新密码不一致。")],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field):
        if not self._matches(field.data):
            raise ValidationError("当前密码不正确。")

    def validate_new_password(self, field):
        problem = password_problem(field.data, username=self.user.username)
        if problem:
            raise ValidationError(problem)
        if self._matches(field.data):
            raise ValidationError("新密码不能与当前密码相同。")

    def _matches(self, password):
        """The slow hash check outside the request's transaction (SQLite: its write lock)."""
        stored = self.user.password_hash
        end_read_transaction()
        return bool(stored) and check_password_hash(stored, password)
