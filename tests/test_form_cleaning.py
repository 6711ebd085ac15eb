"""The shared base form cleans every text input (issue 13 item 3) and counts say what is wrong in
Chinese (item 7)."""

from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField, TextAreaField

from app.forms import BaseForm, CountField, clean_line, clean_text


class SampleForm(BaseForm):
    contact = StringField("联系人")
    intro = TextAreaField("机构简介")
    password = PasswordField("密码")
    staff = CountField("服务人员数", unit="人")


def _form(app, **values):
    with app.test_request_context(method="POST"):
        form = SampleForm(formdata=MultiDict(values), meta={"csrf": False})
        form.validate()
        return form


def test_one_line_fields_lose_control_characters(app):
    form = _form(app, contact=" 张\x0b三\x00\x7f\x85\ufffe ", intro="第一行\r\n\x0b第二行\r第三行\t尾\x01 ")
    assert form.contact.data == "张三"
    assert form.intro.data == "第一行\n第二行\n第三行\t尾"
    assert clean_line("姓名\t张三\r\n李四\n王五") == "姓名 张三 李四 王五"
    assert clean_text("  a\r\nb  ") == "a\nb" and clean_line(12) == 12


def test_passwords_are_taken_as_typed(app):
    assert _form(app, password=" Pass\x0bword1 ").password.data == " Pass\x0bword1 "


def test_a_count_says_in_chinese_what_is_wrong(app):
    assert _form(app, staff="²").staff.errors == ["请输入整数。"]
    assert _form(app, staff="99999999999999999999").staff.errors == ["数值过大，请核对。"]
    assert _form(app, staff="1e5").staff.errors == ["请输入整数。"]
    assert _form(app, staff="-3").staff.errors == ["不能为负数。"]
    good = _form(app, staff="1,200")
    assert good.staff.errors == [] and good.staff.data == 1200
    assert _form(app, staff="１２").staff.data == 12  # full-width digits, as a Chinese IME types them
