"""注册: choice pages, the three registration forms, and the rules behind them."""

import pytest
import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import Enterprise, Expert, Institution, User, UserSession
from app.extensions import db
from tests.auth.data import NEW_PASSWORD, code_with_check_digit, enterprise_form, expert_form, institution_form, unit_id
from tests.factories import make_enterprise, make_institution
from tests.helpers import page, text_of

INSTITUTION_URL = "/auth/register/institution/social"
EXPERT_URL = "/auth/register/expert"
ENTERPRISE_URL = "/auth/register/enterprise"


def errors_of(soup):
    return [p.get_text() for p in soup.select(".error-message")]


def test_register_page_offers_both_types_with_manual_text(client):
    soup = page(client.get("/auth/register"))
    text = text_of(soup)
    assert "请选择要注册的帐号类型" in text
    choices = soup.select(".choice-grid .choice")
    assert [c.h2.get_text() for c in choices] == ["企业注册", "服务机构注册"]
    assert (
        "企业用户注册时建议用公司邮箱作为帐户名称，并且填写必要的个人信息。注册完成登录后，完善您的基本资料和账户信息，并发布企业产品。"
        in text
    )
    assert (
        "服务机构注册建议用机构邮箱作为帐户名称，并且填写必要的基本信息，注册完成登录后，进行资质管理并发布服务项目。"
        in text
    )
    links = [a["href"] for c in choices for a in c.find_all("a", string="点击注册")]
    assert links == [ENTERPRISE_URL, "/auth/register/institution"]


def test_institution_choice_page(client):
    soup = page(client.get("/auth/register/institution"))
    text = text_of(soup)
    assert "请选择要注册的帐号类型" in text
    assert [c.h2.get_text() for c in soup.select(".choice")] == ["社会服务注册", "专家注册"]
    assert "本平台所指“社会服务”，是指由社会机构（企事业单位）提供的为中小企业解决各种个性需求的服务资源。" in text
    hrefs = {a["href"] for a in soup.select(".choice a")}
    assert hrefs == {INSTITUTION_URL, EXPERT_URL}


def test_institution_form_has_the_manual_fields_in_order(client):
    soup = page(client.get(INSTITUTION_URL))
    labels = [
        label.get_text(strip=True).lstrip("*")
        for label in soup.select("form .field > label, form .field > legend, form .field > .field-label")
    ]
    assert labels == [
        "服务机构",
        "帐户名称",
        "帐户密码",
        "确认密码",
        "单位性质",
        "所属平台",
        "机构名称",
        "机构代码",
        "联系人",
        "电话",
        "手机",  # issue 18 item 6: the mobile for SMS codes, beside a landline 电话
        "所在地区",
    ]
    assert "社会性服务类 (C)" in text_of(soup)
    assert soup.find("input", attrs={"name": "service_kind"}) is None  # shown, not editable
    assert "建议使用机构邮箱" in soup.select_one("#field-username .hint").get_text()
    natures = [label.get_text(strip=True) for label in soup.select("#field-unit_nature_id label.radio")]
    assert natures == ["企业", "事业单位", "社会团体", "个体工商户", "民办非企业"]
    platforms = [o.get_text() for o in soup.select("#platform_id option")]
    assert platforms[1] == "湖南省中小企业公共服务平台" and "长沙市中小企业公共服务平台" in platforms
    assert soup.find("button", string="立即注册")
    login_link = soup.find("a", string="现在就去 登录")
    assert login_link["href"] == "/auth/login" and "已注册" in login_link.parent.get_text()


def test_retired_unit_nature_and_platform_are_not_offered(client, app_ctx):
    from app.reference.models import Platform, UnitNature

    db.session.scalar(sa.select(UnitNature).where(UnitNature.name == "个体工商户")).active = False
    db.session.scalar(sa.select(Platform).where(Platform.name == "长沙市中小企业公共服务平台")).active = False
    db.session.commit()
    soup = page(client.get(INSTITUTION_URL))
    assert "个体工商户" not in text_of(soup.select_one("#field-unit_nature_id"))
    assert "长沙市中小企业公共服务平台" not in text_of(soup.select_one("#platform_id"))


def test_institution_register_happy_path(client, app_ctx):
    response = client.post(INSTITUTION_URL, data=institution_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/workspace/"
    user = db.session.scalar(sa.select(User).where(User.username_key == "neworg@example.com"))
    # the bound phone (SMS codes) is the mobile; 电话 stays the institution's contact number
    assert user.role == "institution" and user.phone == "13800001111" and user.city_code == "430100"
    assert user.display_name == "湖南新星企业服务有限公司"
    assert user.check_password(NEW_PASSWORD)
    institution = db.session.scalar(sa.select(Institution).where(Institution.user_id == user.id))
    assert institution.service_kind == "社会性服务类 (C)"
    assert institution.uscc == code_with_check_digit("91430100MA9000001")
    assert institution.unit_nature_id == unit_id() and institution.county_code == "430102"
    assert institution.phone == "0731-88886666"
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)) == 1
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "account.register"))
    assert entry.actor_id == user.id and entry.target_id == str(user.id)
    # logged in: the workspace opens, and says registration succeeded
    soup = page(client.get("/workspace/"))
    assert "注册成功" in text_of(soup)


def test_expert_register_happy_path(client, app_ctx):
    response = client.post(EXPERT_URL, data=expert_form())
    assert response.status_code == 303 and response.headers["Location"] == "/workspace/"
    user = db.session.scalar(sa.select(User).where(User.username_key == "newexpert@example.com"))
    assert user.role == "expert" and user.phone == "13912345678" and user.display_name == "刘洋"
    expert = db.session.scalar(sa.select(Expert).where(Expert.user_id == user.id))
    assert (expert.gender, expert.birth_month, expert.title, expert.employer) == ("男", "1980-05", "教授", "中南大学")
    assert expert.category.name == "融资服务" and expert.bio.startswith("从事")


def test_expert_form_fields(client):
    soup = page(client.get(EXPERT_URL))
    labels = [
        label.get_text(strip=True).lstrip("*") for label in soup.select("form .field > label, form .field > legend")
    ]
    assert labels == [
        "帐户名称",
        "帐户密码",
        "确认密码",
        "姓名",
        "性别",
        "出生年月",
        "工作单位",
        "职称",
        "专业领域",
        "手机",
        "所在地区",
        "个人简介",
    ]
    assert soup.find("input", attrs={"name": "birth_month"})["type"] == "month"
    assert soup.find("textarea", attrs={"name": "bio"})["data-counter"] == "500"
    assert [i["value"] for i in soup.select("input[name=gender]")] == ["男", "女"]


def test_enterprise_register_happy_path(client, app_ctx):
    response = client.post(ENTERPRISE_URL, data=enterprise_form())
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.username_key == "newfirm@example.com"))
    assert user.role == "enterprise" and user.display_name == "长沙新创科技有限公司" and user.city_code == "430100"
    enterprise = db.session.scalar(sa.select(Enterprise).where(Enterprise.user_id == user.id))
    assert enterprise.contact == "李四" and enterprise.county_code == "430103"


def test_enterprise_form_fields(client):
    soup = page(client.get(ENTERPRISE_URL))
    labels = [label.get_text(strip=True).lstrip("*") for label in soup.select("form .field > label")]
    assert labels == ["帐户名称", "帐户密码", "确认密码", "企业名称", "统一社会信用代码", "联系人", "手机", "所在地区"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "ab", "4-60 位"),
        ("username", "张三的帐户", "4-60 位"),
        ("password", "short1", "至少 8 位"),
        ("password", "onlyletters", "字母和数字"),
        ("confirm", "Different2026", "两次输入的密码不一致"),
        ("unit_nature_id", "", "请选择单位性质"),
        ("platform_id", "0", "请选择所属平台"),
        ("platform_id", "99999", "请选择所属平台"),
        ("name", "", "必填"),
        ("uscc", "91430100MA90000", "18 位"),
        ("uscc", "wrong-check-digit", "校验位"),
        ("contact", "", "必填"),
        ("phone", "12345", "固定电话"),
        ("phone", "88886666", "固定电话"),
        ("city_code", "", "请选择所在市州"),
        ("county_code", "430202", "不属于所选市州"),
    ],
)
def test_institution_validation_errors_keep_input(client, app_ctx, field, value, message):
    if value == "wrong-check-digit":
        good = institution_form()["uscc"]
        value = good[:17] + ("0" if good[17] != "0" else "1")
    data = institution_form(**{field: value})
    soup = page(client.post(INSTITUTION_URL, data=data))
    summary = soup.select_one(".error-summary")
    assert summary is not None and message in summary.get_text()
    assert any(message in e for e in errors_of(soup)), errors_of(soup)
    # what was typed is kept (passwords are never sent back)
    for name in ("username", "name", "uscc", "contact", "phone"):
        assert soup.find("input", attrs={"name": name})["value"] == data[name]
    assert soup.find("input", attrs={"name": "password"}).get("value") in (None, "")
    assert (
        soup.select_one("#city_code option[selected]") is None
        or soup.select_one("#city_code option[selected]")["value"] == data["city_code"]
    )
    if field != "unit_nature_id":
        assert soup.select_one("input[name=unit_nature_id][checked]")["value"] == data["unit_nature_id"]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_landline_and_mobile_are_both_accepted_as_institution_phone(client, app_ctx):
    assert client.post(INSTITUTION_URL, data=institution_form(phone="13800138000")).status_code == 303


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_month", "1980-13", "1980-05 的格式"),
        ("birth_month", "198005", "1980-05 的格式"),
        ("birth_month", "2999-01", "早于当前月份"),
        ("birth_month", "2015-01", "18-90"),
        ("birth_month", "1920-01", "18-90"),
        ("gender", "其他", "请选择性别"),
        ("category_id", "0", "请选择专业领域"),
        ("phone", "0731-88886666", "11 位手机号码"),
        ("bio", "字" * 501, "500"),
        ("title", "", "必填"),
    ],
)
def test_expert_validation_errors(client, app_ctx, field, value, message):
    data = expert_form(**{field: value})
    soup = page(client.post(EXPERT_URL, data=data))
    assert any(message in e for e in errors_of(soup)), errors_of(soup)
    assert soup.find("input", attrs={"name": "employer"})["value"] == data["employer"]
    assert soup.find("textarea", attrs={"name": "bio"}).get_text().strip() == data["bio"].strip()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_enterprise_requires_a_mobile(client, app_ctx):
    soup = page(client.post(ENTERPRISE_URL, data=enterprise_form(phone="0731-88886666")))
    assert "请输入正确的 11 位手机号码。" in errors_of(soup)


def test_duplicate_account_name_is_refused_ignoring_case(client, app_ctx):
    make_institution(username="Taken@Example.com")
    for url, data in (
        (INSTITUTION_URL, institution_form(username="taken@example.COM")),
        (EXPERT_URL, expert_form(username="TAKEN@example.com")),
        (ENTERPRISE_URL, enterprise_form(username="taken@example.com")),
    ):
        soup = page(client.post(url, data=data))
        assert any("该帐户名称已被注册" in e for e in errors_of(soup))
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_duplicate_uscc_is_refused(client, app_ctx):
    existing = make_institution()
    code = existing.institution.uscc
    soup = page(client.post(INSTITUTION_URL, data=institution_form(uscc=code)))
    assert any("已注册过服务机构帐户" in e for e in errors_of(soup))
    firm = make_enterprise()
    soup = page(client.post(ENTERPRISE_URL, data=enterprise_form(uscc=firm.enterprise.uscc)))
    assert any("已注册过企业帐户" in e for e in errors_of(soup))


def test_lower_case_uscc_is_normalised_before_the_duplicate_check(client, app_ctx):
    code = code_with_check_digit("91430100MA9000009")
    make_institution(uscc=code)
    soup = page(client.post(INSTITUTION_URL, data=institution_form(uscc=" " + code.lower() + " ")))
    assert any("已注册过服务机构帐户" in e for e in errors_of(soup))


def test_enterprise_with_an_institution_code_gets_the_faq_message(client, app_ctx):
    institution = make_institution()
    soup = page(client.post(ENTERPRISE_URL, data=enterprise_form(uscc=institution.institution.uscc)))
    message = "服务机构请选择服务机构注册，不要注册为企业；如已注册为企业，请联系技术人员 0731-89706287 更改"
    assert any(message in e and "已注册为服务机构" in e for e in errors_of(soup))


def test_institution_with_an_enterprise_code_is_refused(client, app_ctx):
    firm = make_enterprise()
    soup = page(client.post(INSTITUTION_URL, data=institution_form(uscc=firm.enterprise.uscc)))
    assert any("已注册为企业" in e and "0731-89706287" in e for e in errors_of(soup))


def test_a_uscc_mismatch_is_confirmed_before_the_account_exists(client, app_ctx):
    # 事业单位 expects 12…, and 110100 is Beijing: both are warnings, not errors, shown before the
    # account is made; the form comes back with what was typed and a confirm button
    code = code_with_check_digit("91110100MA9000003")
    data = institution_form(uscc=code, unit_nature_id=str(unit_id("事业单位")))
    soup = page(client.post(INSTITUTION_URL, data=data))
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    summary = text_of(soup.select_one("#confirm-summary"))
    assert (
        "帐户尚未创建" in summary and "与单位性质“事业单位”通常的 12 开头不一致" in summary and "不在湖南省" in summary
    )
    beside = [text_of(p) for p in soup.select("#field-uscc .warning-message")]
    assert any("通常的 12 开头" in w for w in beside)
    assert soup.select_one("#uscc")["value"] == code and soup.select_one("#name")["value"] == data["name"]
    assert soup.select_one("#password")["value"] == NEW_PASSWORD  # not typed again
    form = soup.select_one("#confirm-summary ~ form")
    assert [text_of(b) for b in form.select("button[type=submit]")] == ["确认无误，立即注册"]
    confirmed = soup.select_one("input[name=uscc_confirmed]")["value"]
    # confirmed: the account is made, and no warning is repeated after it
    response = client.post(INSTITUTION_URL, data={**data, "uscc_confirmed": confirmed})
    assert response.status_code == 303
    soup = page(client.get(response.headers["Location"]))
    assert soup.select(".flash-success") and not soup.select(".flash-warning")


def test_a_corrected_code_needs_no_confirmation_and_a_changed_one_is_looked_at_again(client, app_ctx):
    code = code_with_check_digit("91430100MA9000003")
    data = institution_form(uscc=code, unit_nature_id=str(unit_id("事业单位")))
    confirmed = page(client.post(INSTITUTION_URL, data=data)).select_one("input[name=uscc_confirmed]")["value"]
    # the code changed after the confirm step (still a mismatch): asked again, nothing made
    other = code_with_check_digit("91430100MA9000005")
    soup = page(client.post(INSTITUTION_URL, data={**data, "uscc": other, "uscc_confirmed": confirmed}))
    assert soup.select_one("#confirm-summary") is not None
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    # corrected to the nature's own prefix: no step, the account is made at once
    fixed = code_with_check_digit("12430100MA9000003")
    assert client.post(INSTITUTION_URL, data={**data, "uscc": fixed}).status_code == 303


def test_no_warning_for_a_matching_hunan_code(client, app_ctx):
    response = client.post(INSTITUTION_URL, data=institution_form())
    soup = page(client.get(response.headers["Location"]))
    assert not soup.select(".flash-warning")


def test_enterprise_non_hunan_code_is_confirmed_first(client, app_ctx):
    data = enterprise_form(uscc=code_with_check_digit("91110100MA9000004"))
    soup = page(client.post(ENTERPRISE_URL, data=data))
    assert "不在湖南省" in text_of(soup.select_one("#confirm-summary"))
    confirmed = soup.select_one("input[name=uscc_confirmed]")["value"]
    assert client.post(ENTERPRISE_URL, data={**data, "uscc_confirmed": confirmed}).status_code == 303


@pytest.mark.parametrize(
    "phone, mobile, bound, error",
    [
        ("0731-88886666", "", None, "电话为固定电话时，请填写手机号码"),
        ("0731-88886666", "0731-88886667", None, "请输入正确的 11 位手机号码。"),
        ("0731-88886666", "13800001111", "13800001111", None),
        ("13900002222", "", "13900002222", None),  # 电话 is a mobile: it is the bound phone
        ("13900002222", "13800001111", "13800001111", None),
    ],
)
def test_a_mobile_is_asked_for_beside_a_landline(client, app_ctx, phone, mobile, bound, error):
    response = client.post(INSTITUTION_URL, data=institution_form(phone=phone, mobile=mobile))
    if error:
        soup = page(response)
        assert any(error in e for e in [text_of(p) for p in soup.select("#field-mobile .error-message")])
        assert soup.select_one("#phone")["value"] == phone
        return
    assert response.status_code == 303
    user = db.session.scalar(sa.select(User).where(User.username_key == "neworg@example.com"))
    assert user.phone == bound and user.institution.phone == phone


def test_password_may_not_contain_the_account_name(client, app_ctx):
    soup = page(
        client.post(
            ENTERPRISE_URL, data=enterprise_form(username="qiye2026", password="qiye2026abc", confirm="qiye2026abc")
        )
    )
    assert "密码不能包含帐户名称。" in errors_of(soup)


def test_error_summary_lists_fields_in_page_order(client):
    soup = page(client.post(ENTERPRISE_URL, data=enterprise_form(username="", city_code="", county_code="")))
    links = [a["href"] for a in soup.select(".error-summary a")]
    assert links[0] == "#username" and links[-1] in ("#city_code", "#county_code")


def test_month_picker_limits_match_the_rule(client):
    from app.blueprints.auth.services import birth_month_problem

    box = page(client.get(EXPERT_URL)).find("input", attrs={"name": "birth_month"})
    assert birth_month_problem(box["min"]) is None and birth_month_problem(box["max"]) is None
    year, month = map(int, box["min"].split("-"))
    before_min = f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    year, month = map(int, box["max"].split("-"))
    after_max = f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    assert birth_month_problem(before_min) is not None and birth_month_problem(after_max) is not None
