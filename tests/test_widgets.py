"""app/widgets.html_params writes what WTForms' own html_params writes, and create_app installs it."""

from pathlib import Path

import pytest
import wtforms.widgets
from markupsafe import Markup, escape
from wtforms import BooleanField, Form, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import core

from app import widgets

CASES = [
    {},
    {"name": "activities", "id": "cat3_activities", "value": "12", "maxlength": 9, "inputmode": "numeric"},
    {"class_": "num wide", "for_": "x", "data_counter_min": 300, "aria_describedby": "a-hint a-error-1"},
    {"required": True, "readonly": False, "checked": True, "disabled": False},
    {"value": 'say "hi" <b>&</b>', "placeholder": "请输入活动数（场次）", "title": "'单引号'"},
    {"value": Markup('already <i>safe</i> "quoted"'), "hx-get": "/regions/counties?a=1&b=2"},
    {"value": 0, "min": -1.5, "step": None, "size": ""},
]


@pytest.mark.parametrize("kwargs", CASES)
def test_same_output_as_wtforms(kwargs):
    ours = widgets.html_params(**kwargs)
    assert ours == widgets.ORIGINAL(**kwargs)
    assert isinstance(ours, Markup)


class _Form(Form):
    name = StringField("名称", render_kw={"placeholder": 'a "b" <c>'})
    note = TextAreaField("说明")
    kind = SelectField("类型", choices=[("1", "一 & 二"), ("2", '"三"')])
    site = RadioField("场所", choices=[("own", "自有"), ("rent", "租赁")])


def _rendered():
    form = _Form(data={"name": "x<y", "note": "line", "kind": "2", "site": "rent"})
    return [
        str(form[name](**{"aria_describedby": "h", "class_": "c"})) for name in ("name", "note", "kind", "site")
    ] + [str(form.name.label(class_="l"))]


def test_whole_widgets_render_the_same(app, monkeypatch):
    ours = _rendered()
    for place in (core, wtforms.widgets):
        monkeypatch.setattr(place, "html_params", widgets.ORIGINAL)
    for widget in (core.Input, core.Button):
        monkeypatch.setattr(widget, "html_params", staticmethod(widgets.ORIGINAL))
    assert _rendered() == ours


def test_create_app_installs_it(app):
    assert core.html_params is widgets.html_params
    assert wtforms.widgets.html_params is widgets.html_params
    assert core.TextInput.html_params is widgets.html_params


# ---- the field macro ------------------------------------------------------------------------------

# The ``field`` macro's Jinja body before app/widgets.field_html took its place (kept beside this
# file): the reference the shipped macro must match byte for byte, as html_params is checked
# against WTForms' own above.
FIELD_MACRO_IN_JINJA = (Path(__file__).parent / "field_macro_reference.html").read_text(encoding="utf-8")


class _Fields(Form):
    name = StringField("名称<&>", [DataRequired(), Length(min=5, max=50)], description="个")
    site = RadioField("场所", choices=[("own", "自有"), ("rent", "租<赁>")], description="单位")
    agree = BooleanField("同意")
    note = TextAreaField("说明", [Length(max=300)])
    count = IntegerField("活动数", [Optional()])


FIELD_CALLS = [
    'field(f.name, hint="提示<b>", placeholder="请输入\\"x\\"", counter=50, warnings=["偏高<"])',
    "field(f.name)",
    'field(f.name, required=False, label="别名", unit="元")',
    "field(f.name, wide=True, required=True)",
    "field(f.site)",
    'field(f.site, hint="h", warnings=["一", "二"])',
    'field(f.agree, hint="h")',
    "field(f.agree)",
    "field(f.note, counter=300, wide=True)",
    'field(f.count, placeholder="请输入活动数", label="活动数（场次）")',
]


@pytest.mark.parametrize("errors", [False, True])
@pytest.mark.parametrize("pinned", [None, ["name", "site", "agree", "count"]])
def test_field_macro_same_as_its_jinja(app, errors, pinned):
    with app.test_request_context():
        form = _Fields()
        if errors:
            for each in form:
                each.errors = ["错误<1>", "错误 2"]
        context = {"f": form} if pinned is None else {"f": form, "pinned_fields": pinned}
        for call in FIELD_CALLS:
            reference = app.jinja_env.from_string(FIELD_MACRO_IN_JINJA + "{{ " + call + " }}").render(**context)
            shipped = app.jinja_env.from_string(
                '{% from "_macros/forms.html" import field with context %}{{ ' + call + " }}"
            ).render(**context)
            assert shipped == reference, call


# ---- an input in one step -------------------------------------------------------------------------


class _Inputs(Form):
    name = StringField(
        "名称", [DataRequired(), Length(min=2, max=50)], render_kw={"placeholder": 'a "b"', "class_": "x"}
    )
    count = IntegerField("活动数", [Optional()])
    agree = BooleanField("同意", [DataRequired()])
    hidden = StringField("隐藏", render_kw={"readonly": True, "data_x": "<y>"})


def _every_input_form(app):
    from app.blueprints.reports.forms import _form_class

    report = _form_class(((1, "创业服务"), (2, "融资<服务>")))
    return [
        _Inputs(data={"name": 'x"<y', "count": 3}),
        report(formdata=None, data={"staff_count": 12, "cat1_served": 4}),
    ]


ATTRS = [
    {},
    {"placeholder": "请输入活动数", "aria-describedby": "a-hint a-error-1", "aria-invalid": "true"},
    {"class_": "wide", "value": "typed <b>", "data-counter": 300, "data-counter-min": 5},
    {"id": "other", "type": "hidden", "readonly": False, "required": False},
]


@pytest.mark.parametrize("attrs", ATTRS)
def test_render_input_writes_what_the_field_writes(app, attrs):
    with app.test_request_context():
        checked = 0
        for form in _every_input_form(app):
            for f in form:
                if not widgets._plain_input(f):
                    continue
                assert widgets.render_input(f, dict(attrs)) == f(**attrs), f.name
                checked += 1
        assert checked >= 15


def test_render_input_leaves_other_widgets_to_the_field(app):
    with app.test_request_context():
        form = _Fields()
        assert not widgets._plain_input(form.site) and not widgets._plain_input(form.note)
        assert widgets.render_input(form.note, {"rows": 3}) == form.note(rows=3)

        class Odd(StringField):
            def __call__(self, **kwargs):
                return Markup("<odd>")

        class OddForm(Form):
            odd = Odd("x")

        assert widgets.render_input(OddForm().odd, {}) == "<odd>"


@pytest.mark.parametrize(
    "value",
    [
        "cat3_activities",
        "请输入活动数",
        'say "hi"',
        "a & b",
        "<b>",
        "it's",
        12,
        0,
        -3,
        1.5,
        None,
        True,
        Markup("<i>x</i>"),
    ],
)
def test_text_is_what_escape_writes(value):
    assert widgets._text(value) == str(escape(value))
