"""app/widgets.html_params writes what WTForms' own html_params writes, and create_app installs it."""

import pytest
import wtforms.widgets
from markupsafe import Markup
from wtforms import Form, RadioField, SelectField, StringField, TextAreaField
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
