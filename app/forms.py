"""Shared form pieces: the base form, EmptyForm, validators used across modules."""
import re

from flask_wtf import FlaskForm
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms import SelectField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from app.passwords import password_problem

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form strips surrounding whitespace from what was typed."""

    class Meta:
        locales = ("zh",)

        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", ())
            if unbound_field.field_class.__name__ not in ("FileField", "MultipleFileField", "PasswordField"):
                unbound_field.kwargs["filters"] = (strip, *filters)
            return unbound_field.bind(form=form, **options)


class EmptyForm(BaseForm):
    """CSRF protection for plain buttons (退出, 删除, 强退 ...)."""


def required(message=None):
    return DataRequired(message or "此项为必填项。")


def input_required(message=None):
    return InputRequired(message or "此项为必填项。")


class Mobile:
    """A mainland mobile number, 11 digits starting 13-19."""

    def __init__(self, message="请输入正确的 11 位手机号码。"):
        self.message = message

    def __call__(self, form, field):
        if field.data and not MOBILE_RE.match(field.data):
            raise ValidationError(self.message)


class Phone:
    """A mainland mobile number, or a landline with its area code (0731-89706287)."""

    def __init__(self, message="请输入手机号码，或带区号的固定电话（如 0731-89706287）。"):
        self.message = message

    def __call__(self, form, field):
        if field.data and not (MOBILE_RE.match(field.data) or LANDLINE_RE.match(field.data)):
            raise ValidationError(self.message)


def is_mobile(number):
    return bool(number and MOBILE_RE.match(number))


class Uscc:
    """统一社会信用代码 with a valid check digit (python-stdnum)."""

    def __call__(self, form, field):
        if not field.data:
            return
        field.data = field.data.upper().replace(" ", "")
        if len(field.data) != 18:
            raise ValidationError("统一社会信用代码应为 18 位。")
        try:
            stdnum_uscc.validate(field.data)
        except StdnumError:
            raise ValidationError("统一社会信用代码校验位不正确，请核对后重新输入。")


def uscc_warnings(code, unit_nature=None):
    """Soft checks (not errors): a prefix that does not match 单位性质, a code registered outside Hunan."""
    warnings = []
    if not code or len(code) != 18:
        return warnings
    if unit_nature is not None and unit_nature.code and not code.startswith(unit_nature.code):
        warnings.append(
            f"机构代码以 {code[:2]} 开头，与单位性质“{unit_nature.name}”通常的 {unit_nature.code} 开头不一致，请核对。"
        )
    if not code[2:4] == "43":
        warnings.append("机构代码的登记机关不在湖南省，请核对。")
    return warnings


class PasswordPolicy:
    """At least 8 characters with letters and digits, not a common password."""

    def __init__(self, username_field=None):
        self.username_field = username_field

    def __call__(self, form, field):
        username = None
        if self.username_field and getattr(form, self.username_field, None) is not None:
            username = form[self.username_field].data
        problem = password_problem(field.data or "", username=username)
        if problem:
            raise ValidationError(problem)


def county_choices(city_code, city_list):
    """The 区县 of the chosen 市州; before a 市州 is chosen, every 区县 prefixed with its 市州,
    so the form still works as two plain selects without JavaScript."""
    from app.reference.services import counties

    if city_code:
        return [(c.code, c.name) for c in counties(city_code)]
    return [(c.code, f"{city.name} {c.name}") for city in city_list for c in counties(city.code)]


class RegionMixin:
    """所在地区: 市州 then 区县. Works as two plain selects; htmx narrows the 区县 list."""

    city_code = SelectField("所在地区", validators=[required("请选择所在市州。")], validate_choice=False)
    county_code = SelectField("区县", validators=[required("请选择所在区县。")], validate_choice=False)

    def fill_region_choices(self):
        from app.reference.services import cities, counties

        city_list = cities()
        self.city_code.choices = [("", "请选择市州")] + [(c.code, c.name) for c in city_list]
        self.county_code.choices = [("", "请选择区县")] + county_choices(self.city_code.data, city_list)

    def validate_city_code(self, field):
        from app.reference.services import region_name

        if field.data and not region_name(field.data):
            raise ValidationError("请选择所在市州。")

    def validate_county_code(self, field):
        from app.reference.services import county_belongs

        if field.data and self.city_code.data and not county_belongs(field.data, self.city_code.data):
            raise ValidationError("所选区县不属于所选市州，请重新选择。")
