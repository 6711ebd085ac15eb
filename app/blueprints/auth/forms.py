"""Forms of the auth blueprint. Database checks call the rule helpers in services.py."""

from flask import request
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, Length, Optional, ValidationError
from wtforms.widgets import MonthInput, PasswordInput, TelInput

from app.blueprints.auth import services
from app.forms import BaseForm, Mobile, PasswordPolicy, Phone, RegionMixin, Uscc, is_mobile, required
from app.passwords import password_problem
from app.reference.services import dict_items, platforms
from app.utils import local_today
from app.verification import captcha_check


def _after(unbound):
    """A fresh copy of a mixin field, so it sorts (and appears in the error summary) after the
    fields declared before it."""
    return unbound.field_class(*unbound.args, **unbound.kwargs)


def _check(problem):
    if problem:
        raise ValidationError(problem)


class AccountFieldsMixin:
    """The check on 帐户名称 shared by every registration form (fields from _account_fields())."""

    def validate_username(self, field):
        _check(services.username_problem(field.data))


def _account_fields(label="帐户密码"):
    return (
        StringField(
            "帐户名称",
            validators=[required(), Length(max=60, message="帐户名称不能超过 60 位。")],
            render_kw={"autocomplete": "username"},
        ),
        PasswordField(
            label, validators=[required(), PasswordPolicy("username")], render_kw={"autocomplete": "new-password"}
        ),
        PasswordField(
            "确认密码",
            validators=[required("请再次输入密码。"), EqualTo("password", "两次输入的密码不一致。")],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class UsccConfirmMixin:
    """The confirm step of a registration whose code deserves a second look (app/forms.uscc_warnings):
    the warnings are shown before the account exists; the user corrects the code or confirms it.
    ``uscc_confirmed`` carries what was confirmed, so a changed code or 单位性质 is looked at again."""

    uscc_confirmed = HiddenField()

    def confirm_key(self):
        unit = getattr(self, "unit_nature_id", None)
        return f"{(self.uscc.data or '').strip().upper()}|{unit.data if unit is not None else ''}"

    def confirmed(self):
        return self.uscc_confirmed.data == self.confirm_key()

    def ask_to_confirm(self):
        """Show the form again for confirmation, keeping the typed passwords (they are the user's own
        input on the user's own page; retyping them would be the needless work the step avoids)."""
        self.uscc_confirmed.data = self.confirm_key()
        for name in ("password", "confirm"):
            self[name].widget = PasswordInput(hide_value=False)


class InstitutionRegisterForm(UsccConfirmMixin, AccountFieldsMixin, RegionMixin, BaseForm):
    """社会服务帐户注册 — exactly the manual's fields, in its order."""

    username, password, confirm = _account_fields()
    unit_nature_id = RadioField(
        "单位性质", coerce=int, validators=[required("请选择单位性质。")], validate_choice=False
    )
    platform_id = SelectField("所属平台", coerce=int, validators=[required("请选择所属平台。")], validate_choice=False)
    name = StringField("机构名称", validators=[required(), Length(max=120)])
    uscc = StringField("机构代码", validators=[required(), Uscc()])
    contact = StringField("联系人", validators=[required(), Length(max=40)])
    phone = StringField("电话", validators=[required(), Phone()], widget=TelInput())
    # the bound mobile for SMS codes (忘记密码, 手机号变更申诉); not needed when 电话 is a mobile
    mobile = StringField("手机", validators=[Mobile()], widget=TelInput())
    city_code = _after(RegionMixin.city_code)
    county_code = _after(RegionMixin.county_code)

    def validate_mobile(self, field):
        landline = self.phone.data and not is_mobile(self.phone.data)
        _check(services.MOBILE_NEEDED if landline and not field.data else None)

    def fill_choices(self):
        self.fill_region_choices()
        self.unit_nature_id.choices = [(item.id, item.name) for item in dict_items("unit_nature")]
        self.platform_id.choices = [(0, "请选择所属平台")] + [(p.id, p.name) for p in platforms()]

    def validate_unit_nature_id(self, field):
        _check(None if field.data in {value for value, _ in field.choices} else "请选择单位性质。")

    def validate_platform_id(self, field):
        _check(None if field.data in {value for value, _ in field.choices[1:]} else "请选择所属平台。")

    def validate_uscc(self, field):
        _check(services.uscc_problem(field.data, role="institution"))


class ExpertRegisterForm(AccountFieldsMixin, RegionMixin, BaseForm):
    """专家注册."""

    username, password, confirm = _account_fields()
    name = StringField("姓名", validators=[required(), Length(max=40)])
    gender = RadioField(
        "性别", choices=list(services.GENDERS), validators=[required("请选择性别。")], validate_choice=False
    )
    birth_month = StringField("出生年月", validators=[required()], widget=MonthInput())
    employer = StringField("工作单位", validators=[required(), Length(max=120)])
    title = StringField("职称", validators=[required(), Length(max=40)])
    category_id = SelectField("专业领域", coerce=int, validators=[required("请选择专业领域。")], validate_choice=False)
    phone = StringField("手机", validators=[required(), Mobile()], widget=TelInput())
    city_code = _after(RegionMixin.city_code)
    county_code = _after(RegionMixin.county_code)
    bio = TextAreaField(
        "个人简介",
        validators=[Optional(), Length(max=services.BIO_MAX, message=f"个人简介不能超过 {services.BIO_MAX} 字。")],
    )

    def fill_choices(self):
        self.fill_region_choices()
        today = local_today()
        # The browser's month picker offers only months that pass birth_month_problem().
        oldest_year, oldest_month = today.year - services.EXPERT_MAX_AGE - 1, today.month + 1
        if oldest_month > 12:
            oldest_year, oldest_month = oldest_year + 1, 1
        self.birth_month.render_kw = {
            "min": f"{oldest_year}-{oldest_month:02d}",
            "max": f"{today.year - services.EXPERT_MIN_AGE}-{today.month:02d}",
        }
        self.category_id.choices = [(0, "请选择专业领域")] + [
            (item.id, item.name) for item in dict_items("service_category")
        ]

    def validate_gender(self, field):
        _check(None if field.data in services.GENDERS else "请选择性别。")

    def validate_birth_month(self, field):
        _check(services.birth_month_problem(field.data))

    def validate_category_id(self, field):
        _check(None if field.data in {value for value, _ in field.choices[1:]} else "请选择专业领域。")


class EnterpriseRegisterForm(UsccConfirmMixin, AccountFieldsMixin, RegionMixin, BaseForm):
    """企业注册."""

    username, password, confirm = _account_fields()
    name = StringField("企业名称", validators=[required(), Length(max=120)])
    uscc = StringField("统一社会信用代码", validators=[required(), Uscc()])
    contact = StringField("联系人", validators=[required(), Length(max=40)])
    phone = StringField("手机", validators=[required(), Mobile()], widget=TelInput())
    city_code = _after(RegionMixin.city_code)
    county_code = _after(RegionMixin.county_code)

    def fill_choices(self):
        self.fill_region_choices()

    def validate_uscc(self, field):
        _check(services.uscc_problem(field.data, role="enterprise"))


class CaptchaRefreshMixin:
    """看不清？换一张 without JavaScript posts the form back with ``captcha_refresh``: nothing is
    checked or sent, the page comes back with what was typed and a new image."""

    def captcha_refresh_requested(self):
        return self.is_submitted() and bool(request.form.get("captcha_refresh"))

    def validate_on_submit(self, extra_validators=None):
        if self.captcha_refresh_requested():
            return False
        return super().validate_on_submit(extra_validators)


class LoginForm(CaptchaRefreshMixin, BaseForm):
    """登录. Field names are relied on by tests/helpers.login()."""

    username = StringField(
        "帐户名称", validators=[required("请输入帐户名称。")], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        "密码", validators=[required("请输入密码。")], render_kw={"autocomplete": "current-password"}
    )
    captcha = StringField("验证码", validators=[required("请输入验证码。")])


class CaptchaMixin(CaptchaRefreshMixin):
    """An image captcha checked (and used up) when the form validates."""

    captcha_scope = None

    def validate_captcha(self, field):
        _check(None if captcha_check(self.captcha_scope, field.data) else services.CAPTCHA_WRONG)


class ForgotPasswordForm(CaptchaMixin, BaseForm):
    """忘记密码, step 1: the account and its bound mobile."""

    captcha_scope = "forgot"
    username = StringField("帐户名称", validators=[required("请输入帐户名称。")])
    phone = StringField("绑定手机号", validators=[required("请输入绑定的手机号。"), Mobile()], widget=TelInput())
    captcha = StringField("图形验证码", validators=[required("请输入图形验证码。")])


class ResetPasswordForm(BaseForm):
    """忘记密码, step 2: the SMS code and the new password."""

    sms_code = StringField(
        "短信验证码",
        validators=[required("请输入短信验证码。"), Length(min=6, max=6, message="短信验证码为 6 位数字。")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6},
    )
    password = PasswordField(
        "新密码", validators=[required("请输入新密码。")], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        "确认新密码",
        validators=[required("请再次输入新密码。"), EqualTo("password", "两次输入的密码不一致。")],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, username=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.username = username

    def validate_password(self, field):
        _check(password_problem(field.data or "", username=self.username))


class PhoneAppealForm(CaptchaMixin, BaseForm):
    """手机号变更申诉."""

    captcha_scope = "appeal"
    username = StringField("帐户名称", validators=[required(), Length(max=60)])
    old_phone = StringField(
        "原手机号", validators=[required(), Phone("请输入原来绑定的手机号或带区号的固定电话。")], widget=TelInput()
    )
    new_phone = StringField("新手机号", validators=[required(), Mobile()], widget=TelInput())
    reason = TextAreaField(
        "申诉理由", validators=[required(), Length(min=10, max=500, message="申诉理由应为 10-500 字。")]
    )
    proof = FileField("证明材料", validators=[FileRequired("请上传证明材料。")])
    captcha = StringField("图形验证码", validators=[required("请输入图形验证码。")])
