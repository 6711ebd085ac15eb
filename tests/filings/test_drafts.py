"""保存草稿's checks (app/filings/drafts.py): what is wrong is refused, what is unfinished is kept."""

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import ValidationError

from app.filings.drafts import unfinished, validate_draft, validate_step
from app.forms import BaseForm, CharCount, CountField, MoneyField, Phone, input_required, required


class SampleForm(BaseForm):
    amount = MoneyField("注册资本", [input_required()])
    staff = CountField("服务人员数", [input_required()], unit="人")
    bachelors = CountField("本科人数", [input_required()], unit="人")
    phone = StringField("联系电话", [required(), Phone()])
    site = RadioField("场地性质", choices=[("租用", "租用"), ("自有", "自有")], validators=[input_required()])
    honors = TextAreaField("荣誉资质", [input_required(), CharCount(minimum=300, maximum=500)])

    def validate_bachelors(self, field):
        if field.data is not None and self.staff.data is not None and field.data > self.staff.data:
            raise ValidationError("本科人数不能超过服务人员数。")


def test_an_empty_or_half_filled_form_passes_as_a_draft_and_lists_what_is_left(app):
    with app.test_request_context(method="POST", data={"amount": "12.5", "honors": "荣" * 120}):
        form = SampleForm()
        assert validate_draft(form) and form.errors == {}
        # 下一步 would still refuse the empty fields and the too short text
        assert unfinished(form) == ["服务人员数", "本科人数", "联系电话", "场地性质", "荣誉资质"]
        assert form.errors == {}  # the 下一步 complaints are not left on the form
        assert validate_step(form, draft=True) == (True, ["服务人员数", "本科人数", "联系电话", "场地性质", "荣誉资质"])
        assert validate_step(form) == (False, []) and "此项为必填项。" in form.errors["staff"]


def test_format_checks_still_apply_to_a_draft(app):
    wrong = {
        "amount": ("1.234", "最多保留两位小数。"),
        "staff": ("abc", "请输入整数。"),
        "phone": ("12345", "请输入手机号码，或带区号的固定电话（如 0731-89706287）。"),
        "site": ("楼房", "不是有效的选择。"),
        "honors": ("荣" * 501, "请在500字以内（当前 501 字）。"),
    }
    for name, (value, message) in wrong.items():
        with app.test_request_context(method="POST", data={name: value}):
            form = SampleForm()
            assert not validate_draft(form), name
            assert form.errors == {name: [message]}
    # a rule between two typed fields is a format check too
    with app.test_request_context(method="POST", data={"staff": "3", "bachelors": "5"}):
        form = SampleForm()
        assert not validate_draft(form) and form.errors == {"bachelors": ["本科人数不能超过服务人员数。"]}
        assert validate_step(form, draft=True) == (False, [])


def test_the_csrf_token_is_checked_in_a_draft(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    with app.test_request_context(method="POST", data={"amount": "1"}):
        form = SampleForm()
        assert not validate_draft(form) and "csrf_token" in form.errors


def test_char_count_keeps_its_maximum_for_a_draft():
    draft = CharCount(minimum=300, maximum=500).for_draft()
    assert (draft.minimum, draft.maximum) == (None, 500)
    plain = CharCount(maximum=800)
    assert plain.for_draft() is plain
