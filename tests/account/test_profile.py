"""基本资料: each role edits its own fields; read-only ones stay; every change is audited."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import Enterprise, Expert, Institution, User
from app.extensions import db
from app.reference.models import InstitutionType, Platform, ServiceCategory, UnitNature
from tests.account.conftest import fresh, rows, signed_in
from tests.factories import make_city_admin, make_enterprise, make_expert, make_institution, make_province_admin
from tests.helpers import page, text_of


def _id(model, name):
    return db.session.scalar(sa.select(model.id).where(model.name == name))


def institution_data(**changes):
    data = {
        "unit_nature_id": _id(UnitNature, "企业"),
        "platform_id": _id(Platform, "湘潭市中小企业公共服务平台"),
        "institution_type_id": _id(InstitutionType, "专业服务机构"),
        "contact": "赵敏",
        "city_code": "430300",
        "county_code": "430302",
        "address": "湘潭市雨湖区建设北路 1 号",
        "email": "office@example.com",
        "intro": "提供融资、管理咨询服务。",
    }
    data.update(changes)
    return data


def test_institution_page_shows_read_only_fields(client, app_ctx):
    user = make_institution(name="湖南测试服务有限公司")
    soup = page(signed_in(client, user).get("/workspace/profile"))
    text = text_of(soup)
    for expected in (
        user.username,
        "服务机构",
        user.phone,
        "湖南测试服务有限公司",
        user.institution.uscc,
        "由技术人员核实后处理",
    ):
        assert expected in text
    assert soup.find("a", string="手机号变更申诉")
    for name in ("name", "uscc", "phone", "username"):
        assert soup.find(attrs={"name": name}) is None
    for name in (
        "unit_nature_id",
        "platform_id",
        "institution_type_id",
        "contact",
        "city_code",
        "county_code",
        "address",
        "email",
        "intro",
    ):
        assert soup.find(attrs={"name": name}) is not None, name
    assert soup.find("textarea", attrs={"name": "intro"})["data-counter"] == "1000"


def test_institution_saves_and_audits(client, app_ctx):
    user = make_institution()
    data = institution_data()
    response = signed_in(client, user).post("/workspace/profile", data=data)
    assert response.status_code == 303
    institution = fresh(Institution, user.institution.id)
    assert institution.contact == "赵敏"
    assert institution.platform_id == data["platform_id"]
    assert institution.institution_type_id == data["institution_type_id"]
    assert (institution.city_code, institution.county_code) == ("430300", "430302")
    assert institution.email == "office@example.com"
    assert fresh(User, user.id).city_code == "430300"
    [entry] = rows(AuditLog, AuditLog.action == "account.profile_update")
    assert entry.actor_id == user.id and entry.target_id == str(user.id)
    assert entry.before["contact"] == "联系人" and entry.after["contact"] == "赵敏"
    assert entry.before["city_code"] == "430100" and entry.after["city_code"] == "430300"
    assert "unit_nature_id" not in entry.after  # unchanged fields are not recorded
    assert "基本资料已保存" in text_of(page(client.get(response.headers["Location"])))


def test_saving_without_changes_writes_no_audit(client, app_ctx):
    user = make_institution()
    signed_in(client, user).post("/workspace/profile", data=institution_data())
    response = client.post("/workspace/profile", data=institution_data())
    assert response.status_code == 303
    assert len(rows(AuditLog, AuditLog.action == "account.profile_update")) == 1
    assert "基本资料没有变化" in text_of(page(client.get("/workspace/profile")))


def test_institution_validation_keeps_input(client, app_ctx):
    user = make_institution()
    data = institution_data(contact="", email="不是邮箱", intro="长" * 1001, county_code="430102")
    soup = page(signed_in(client, user).post("/workspace/profile", data=data))
    summary = text_of(soup.select_one(".error-summary"))
    assert "请填写联系人" in summary
    assert "请输入正确的电子邮箱地址" in summary
    assert "机构简介不能超过 1000 字" in summary
    assert "所选区县不属于所选市州" in summary
    field = soup.find(id="field-email")
    assert "请输入正确的电子邮箱地址" in field.select_one(".error-message").get_text()
    assert field.find("input")["value"] == "不是邮箱"
    assert soup.find("textarea", attrs={"name": "intro"}).get_text().strip() == "长" * 1001
    assert fresh(Institution, user.institution.id).contact == "联系人"  # nothing saved
    assert rows(AuditLog, AuditLog.action == "account.profile_update") == []


def test_posted_name_and_code_are_ignored(client, app_ctx):
    user = make_institution(name="原机构名称")
    uscc = user.institution.uscc
    signed_in(client, user).post(
        "/workspace/profile", data=institution_data(name="改过的名称", uscc="91430100MA4L16JX7C")
    )
    institution = fresh(Institution, user.institution.id)
    assert (institution.name, institution.uscc) == ("原机构名称", uscc)


def test_retired_entries_on_the_record_stay_selectable(client, app_ctx):
    user = make_institution()
    retired = InstitutionType(name="已停用类型", sort_order=9, active=False)
    db.session.add(retired)
    other_retired = InstitutionType(name="另一个停用类型", sort_order=10, active=False)
    db.session.add(other_retired)
    db.session.flush()
    user.institution.institution_type_id = retired.id
    db.session.commit()
    soup = page(signed_in(client, user).get("/workspace/profile"))
    options = {o.get_text(): o for o in soup.find("select", attrs={"name": "institution_type_id"}).find_all("option")}
    assert options["已停用类型（已停用）"].has_attr("selected")
    assert "另一个停用类型（已停用）" not in options
    # keeping it saves fine; choosing another retired entry is refused
    assert client.post("/workspace/profile", data=institution_data(institution_type_id=retired.id)).status_code == 303
    soup = page(client.post("/workspace/profile", data=institution_data(institution_type_id=other_retired.id)))
    assert "请从列表中选择" in soup.find(id="field-institution_type_id").get_text()


def test_expert_profile(client, app_ctx):
    user = make_expert()
    soup = page(signed_in(client, user).get("/workspace/profile"))
    assert soup.find("input", attrs={"name": "birth_month"})["type"] == "month"
    assert soup.find("textarea", attrs={"name": "bio"})["data-counter"] == "500"
    category = _id(ServiceCategory, "法律服务")
    data = {
        "name": "李华",
        "gender": "女",
        "birth_month": "1982-11",
        "employer": "中南大学",
        "title": "副教授",
        "category_id": category,
        "city_code": "430100",
        "county_code": "430104",
        "bio": "知识产权与法律服务。",
    }
    assert client.post("/workspace/profile", data=data).status_code == 303
    expert = fresh(Expert, user.expert.id)
    assert (expert.name, expert.gender, expert.birth_month, expert.category_id) == ("李华", "女", "1982-11", category)
    assert fresh(User, user.id).display_name == "李华"
    [entry] = rows(AuditLog, AuditLog.action == "account.profile_update")
    assert entry.after["name"] == "李华"


def test_expert_validation(client, app_ctx):
    user = make_expert()
    data = {
        "name": "李华",
        "gender": "",
        "birth_month": "1982/11",
        "employer": "中南大学",
        "title": "副教授",
        "category_id": "",
        "city_code": "430100",
        "county_code": "430104",
        "bio": "简" * 501,
    }
    soup = page(signed_in(client, user).post("/workspace/profile", data=data))
    text = text_of(soup.select_one(".error-summary"))
    for message in ("请选择性别", "请按 1980-05 的格式填写出生年月", "请选择专业领域", "个人简介不能超过 500 字"):
        assert message in text
    assert text.count("请选择性别") == 1
    assert soup.find("input", attrs={"name": "birth_month"})["value"] == "1982/11"
    soup = page(client.post("/workspace/profile", data={**data, "gender": "男", "birth_month": "2999-01", "bio": ""}))
    assert "出生年月不在合理范围内" in text_of(soup)


def test_enterprise_profile(client, app_ctx):
    user = make_enterprise()
    soup = page(signed_in(client, user).get("/workspace/profile"))
    text = text_of(soup)
    assert user.enterprise.name in text and user.enterprise.uscc in text and "统一社会信用代码" in text
    assert {tag["name"] for tag in soup.select("form input[name], form select[name], form textarea[name]")} >= {
        "contact",
        "city_code",
        "county_code",
        "address",
    }
    assert soup.find(attrs={"name": "name"}) is None
    data = {"contact": "钱进", "city_code": "430100", "county_code": "430105", "address": "开福区 8 号"}
    assert client.post("/workspace/profile", data=data).status_code == 303
    enterprise = fresh(Enterprise, user.enterprise.id)
    assert (enterprise.contact, enterprise.county_code, enterprise.address) == ("钱进", "430105", "开福区 8 号")
    soup = page(client.post("/workspace/profile", data={**data, "contact": "", "city_code": ""}))
    assert "请填写联系人" in text_of(soup) and "请选择所在市州" in text_of(soup)


def test_admin_profile(client, app_ctx):
    user = make_city_admin()
    soup = page(signed_in(client, user).get("/workspace/profile"))
    assert [tag["name"] for tag in soup.select("form input[name=display_name]")] == ["display_name"]
    assert soup.find(attrs={"name": "city_code"}) is None
    assert "长沙市" in text_of(soup)
    assert client.post("/workspace/profile", data={"display_name": "长沙市工信局中小企业科"}).status_code == 303
    admin = fresh(User, user.id)
    assert admin.display_name == "长沙市工信局中小企业科"
    assert admin.city_code == "430100"  # the admin's scope is not a profile field
    [entry] = rows(AuditLog, AuditLog.action == "account.profile_update")
    assert entry.after == {"display_name": "长沙市工信局中小企业科"}
    soup = page(client.post("/workspace/profile", data={"display_name": ""}))
    assert "请填写显示名称" in text_of(soup)


def test_province_admin_profile(client, app_ctx):
    user = make_province_admin()
    assert signed_in(client, user).post("/workspace/profile", data={"display_name": "省中心"}).status_code == 303
    assert fresh(User, user.id).display_name == "省中心"


def test_unit_nature_radio_messages(client, app_ctx):
    user = make_institution()
    signed_in(client, user)
    soup = page(client.post("/workspace/profile", data=institution_data(unit_nature_id="")))
    errors = [p.get_text() for p in soup.find(id="field-unit_nature_id").select(".error-message")]
    assert errors == ["请选择单位性质。"]
    retired = UnitNature(name="已停用性质", sort_order=9, active=False)
    db.session.add(retired)
    db.session.commit()
    for value in (retired.id, "abc"):
        soup = page(client.post("/workspace/profile", data=institution_data(unit_nature_id=value)))
        errors = [p.get_text() for p in soup.find(id="field-unit_nature_id").select(".error-message")]
        assert errors == ["请从列表中选择。"], (value, errors)
    # rendered as the macro's radio group
    assert soup.select_one("#field-unit_nature_id .radios input[type=radio]") is not None
