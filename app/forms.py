"""Shared form pieces: the base form, EmptyForm, validators used across modules."""

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumError
from wtforms import DecimalField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError
from wtforms.widgets import TextInput

from app.passwords import password_problem
from app.reference.services import cities, counties, county_belongs, region_name

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
# C0 and C1 control characters and DEL, but not tab, LF and CR (handled per kind of field below),
# and the two non-characters XML refuses: pasted from Word or a PDF they break exports and
# PostgreSQL (NUL), and nobody means to type them.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
LINE_BREAK_RE = re.compile("\r\n?")


# fields that take no filters (FieldList / FormField refuse them; their inner fields are cleaned).
# Passwords are taken exactly as typed.
NO_FILTERS = ("FileField", "MultipleFileField", "PasswordField", "FieldList", "FormField")


def strip(value):
    return value.strip() if isinstance(value, str) else value


_LINE_SPACES = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


def clean_line(value):
    """One-line text: control characters removed, a pasted tab or line break becomes a space,
    surrounding whitespace stripped."""
    if not isinstance(value, str):
        return value
    return CONTROL_RE.sub("", value).replace("\r\n", " ").translate(_LINE_SPACES).strip()


def clean_text(value):
    """Multi-line text (TextAreaField): control characters removed except tab and line breaks,
    which become \\n; surrounding whitespace stripped."""
    if not isinstance(value, str):
        return value
    return LINE_BREAK_RE.sub("\n", CONTROL_RE.sub("", value)).strip()


class BaseForm(FlaskForm):
    """Every form cleans what was typed: control characters removed, surrounding whitespace stripped."""

    class Meta:
        locales = ("zh",)

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if field_class.__name__ not in NO_FILTERS:
                clean = clean_text if issubclass(field_class, TextAreaField) else clean_line
                filters = unbound_field.kwargs.get("filters", ())
                # The unbound field is shared by every instance of the form: add the filter only once.
                if clean not in filters:
                    unbound_field.kwargs["filters"] = (clean, *filters)
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
    if city_code:
        return [(c.code, c.name) for c in counties(city_code)]
    return [(c.code, f"{city.name} {c.name}") for city in city_list for c in counties(city.code)]


class RegionMixin:
    """所在地区: 市州 then 区县. Works as two plain selects; htmx narrows the 区县 list."""

    city_code = SelectField("所在地区", validators=[required("请选择所在市州。")], validate_choice=False)
    county_code = SelectField("区县", validators=[required("请选择所在区县。")], validate_choice=False)

    def fill_region_choices(self):
        city_list = cities()
        self.city_code.choices = [("", "请选择市州")] + [(c.code, c.name) for c in city_list]
        self.county_code.choices = [("", "请选择区县")] + county_choices(self.city_code.data, city_list)

    def validate_city_code(self, field):
        if field.data and not region_name(field.data):
            raise ValidationError("请选择所在市州。")

    def validate_county_code(self, field):
        if field.data and self.city_code.data and not county_belongs(field.data, self.city_code.data):
            raise ValidationError("所选区县不属于所选市州，请重新选择。")


# ---- number fields with units (万元, 平米, %, 人, 家次, 场次) ---------------------------------


class MoneyField(DecimalField):
    """An amount in 万元: non-negative unless ``allow_negative``, at most two decimals.

    A text box with a decimal keypad rather than type=number, so "1,200.50" and the server's
    Chinese messages work the same in every browser.
    """

    widget = TextInput(input_type="text")

    def __init__(
        self, label=None, validators=None, allow_negative=False, maximum=Decimal("99999999.99"), unit="万元", **kwargs
    ):
        self.allow_negative = allow_negative
        self.maximum = maximum
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, places=2, description=kwargs.pop("description", unit), **kwargs)

    example = "请输入数字，如 120.50。"

    def clean_number(self, text):
        return text.replace(",", "").replace("，", "").strip()

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        text = self.clean_number(valuelist[0])
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError(self.example)
        if not value.is_finite():
            self.data = None
            raise ValueError(self.example)
        self.data = value

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data.as_tuple().exponent < -2:
            raise ValidationError("最多保留两位小数。")
        if not self.allow_negative and self.data < 0:
            raise ValidationError("不能为负数。")
        if abs(self.data) > self.maximum:
            raise ValidationError(f"数值过大，请核对单位（{self.description}）。")


class PercentField(MoneyField):
    """A percentage, 0-100 with at most two decimals; "50%" (or "50％") is read as 50."""

    example = "请输入 0 到 100 之间的数字，如 50 或 50%。"

    def clean_number(self, text):
        return super().clean_number(text).rstrip("%％").strip()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, maximum=Decimal("100"), unit="%", **kwargs)

    def pre_validate(self, form):
        if self.data is not None and not (0 <= self.data <= 100):
            raise ValidationError("请输入 0 到 100 之间的百分比。")
        super().pre_validate(form)


INTEGER_RE = re.compile(r"-?\d+")


class CountField(IntegerField):
    """A non-negative whole number (人, 家次, 场次, 台/套)."""

    widget = TextInput(input_type="text")

    def __init__(self, label=None, validators=None, unit=None, maximum=10_000_000, **kwargs):
        self.maximum = maximum
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "autocomplete": "off"})
        super().__init__(label, validators, description=kwargs.pop("description", unit or ""), **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        text = valuelist[0].replace(",", "").replace("，", "").strip()
        # \d is any decimal digit (int() reads full-width ones too); "²" passes str.isdigit() but int() refuses it
        if not INTEGER_RE.fullmatch(text):
            self.data = None
            raise ValueError("请输入整数。")
        if len(text.lstrip("-")) > 18:
            self.data = None
            raise ValueError("数值过大，请核对。")
        self.data = int(text)

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data < 0:
            raise ValidationError("不能为负数。")
        if self.data > self.maximum:
            raise ValidationError("数值过大，请核对。")


class CharCount:
    """A text's length in characters (字), with the manual's wording."""

    def __init__(self, minimum=None, maximum=None):
        self.minimum, self.maximum = minimum, maximum

    def for_draft(self):
        """保存草稿 keeps a text still short of its minimum (unfinished, not wrong): the maximum only."""
        return CharCount(maximum=self.maximum) if self.minimum is not None else self

    def __call__(self, form, field):
        length = len(field.data or "")
        if self.maximum is not None and length > self.maximum:
            raise ValidationError(f"请在{self.maximum}字以内（当前 {length} 字）。")
        if self.minimum is not None and field.data and length < self.minimum:
            raise ValidationError(f"请输入 {self.minimum}-{self.maximum} 字（当前 {length} 字）。")
