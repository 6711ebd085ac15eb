"""核心服务机构名单导入: the preview says what would happen and why and writes nothing; the commit writes it."""

import io
import os

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.audit import AuditLog
from app.blueprints.applications.models import Recognition
from app.blueprints.auth.models import Institution, User
from app.extensions import db
from app.sms import SmsMessage
from tests.factories import make_city_admin, make_enterprise, make_institution, make_province_admin, uscc_for
from tests.helpers import login, page, text_of
from tests.portal.conftest import recognise

HEADINGS = [
    "机构名称",
    "统一社会信用代码",
    "所在市州",
    "所在区县",
    "机构类型",
    "联系人",
    "电话",
    "认定期限",
    "服务类别",
]


def sheet(rows, headings=HEADINGS, title_rows=1):
    workbook = Workbook()
    ws = workbook.active
    for _ in range(title_rows):
        ws.append(["湖南省中小微企业核心服务机构（2023-2026）名单"])
    ws.append(headings)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _all(model, *criteria):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).where(*criteria)).all()


def upload(client, data, name="名单.xlsx"):
    return client.post("/institutions/import", data={"sheet": (data, name)}, content_type="multipart/form-data")


@pytest.fixture
def admin(client, app_ctx):
    user = make_province_admin()
    login(client, user)
    return user


@pytest.fixture
def mixed(app_ctx):
    """An existing institution, one already recognised for 2023-2026, an enterprise, and a sheet
    with one row of each outcome and the usual mistakes."""
    existing = make_institution(name="已注册的服务中心")
    listed = make_institution(name="已在名单中的机构")
    recognise(listed, start=2023, end=2026)
    enterprise = make_enterprise()
    new1, new2 = uscc_for(901), uscc_for(902, "12")
    rows = [
        [
            "湖南新建融资服务有限公司",
            new1,
            "长沙市",
            "芙蓉区",
            "综合服务机构",
            "王经理",
            13800001111,
            "2023-2026",
            "融资服务、政策服务",
        ],
        ["湘潭市中小企业服务中心", new2.lower(), "湘潭", "", "", "李主任", "0731-58581234", "2023年—2026年", ""],
        ["已注册的服务中心（新名称）", existing.institution.uscc, "长沙市", "", "", "", "", "2023-2026", ""],
        ["已在名单中的机构", listed.institution.uscc, "长沙市", "", "", "", "", "2023-2026", ""],
        ["校验位错误", uscc_for(903)[:-1] + "X", "长沙市", "", "", "张三", "13800002222", "2023-2026", ""],
        ["外省市州", uscc_for(904), "武汉市", "", "", "张三", "13800002222", "2023-2026", ""],
        ["区县不符", uscc_for(905), "长沙市", "雨湖区", "", "张三", "13800002222", "2023-2026", ""],
        ["期限有误", uscc_for(906), "长沙市", "", "", "张三", "13800002222", "2026-2023", ""],
        ["重复代码", new1, "长沙市", "", "", "张三", "13800002222", "2023-2026", ""],
        ["企业帐户", enterprise.enterprise.uscc, "长沙市", "", "", "张三", "13800002222", "2023-2026", ""],
        ["缺联系人", uscc_for(907), "长沙市", "", "", "", "12345", "2023-2026", "旅游服务"],
        ["机构类型有误", uscc_for(908), "长沙市", "", "孵化器", "张三", "13800002222", "2023-2026", ""],
        [None, None, None, None, None, None, None, None, None],  # a blank line is ignored
    ]
    return {"existing": existing, "listed": listed, "rows": rows, "new": (new1, new2)}


def _preview(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return page(client.get(response.headers["Location"]))


def _outcomes(soup):
    result = {}
    for tr in soup.select("table.list tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        result[cells[1]] = (cells[6], cells[7])
    return result


def test_preview_explains_each_row_and_writes_nothing(client, admin, mixed):
    users_before = len(_all(User))
    soup = _preview(client, upload(client, sheet(mixed["rows"])))
    outcomes = _outcomes(soup)
    assert outcomes["湖南新建融资服务有限公司"][0] == "新建帐户并认定"
    assert "开通短信" in outcomes["湖南新建融资服务有限公司"][1]
    assert outcomes["湘潭市中小企业服务中心"][0] == "新建帐户并认定"
    assert "电话非手机号" in outcomes["湘潭市中小企业服务中心"][1]
    assert outcomes["已注册的服务中心（新名称）"][0] == "已有帐户，新增认定"
    assert "系统中的机构名称为“已注册的服务中心”" in outcomes["已注册的服务中心（新名称）"][1]
    assert outcomes["已在名单中的机构"][0] == "已在名单中，跳过"
    reasons = {name: outcome[1] for name, outcome in outcomes.items() if outcome[0] == "不导入"}
    assert "统一社会信用代码不正确" in reasons["校验位错误"]
    assert "“武汉市”不是湖南省的市州" in reasons["外省市州"]
    assert "“雨湖区”不属于长沙市" in reasons["区县不符"]
    assert "认定期限“2026-2023”不合理" in reasons["期限有误"]
    assert "与第 3 行的统一社会信用代码重复" in reasons["重复代码"]
    assert "已注册为企业帐户" in reasons["企业帐户"]
    assert "须填写联系人" in reasons["缺联系人"] and "“12345”应为手机号码" in reasons["缺联系人"]
    assert "服务类别“旅游服务”不在服务类别列表中" in reasons["缺联系人"]
    assert "机构类型“孵化器”应为" in reasons["机构类型有误"]
    text = text_of(soup)
    assert "共 12 行：新建帐户并认定 2 家，已有帐户新增认定 1 家，已在名单中跳过 1 行，不导入 8 行" in text
    assert "确认导入（3 家）" in text
    assert len(_all(User)) == users_before and len(_all(Recognition)) == 1 and _all(AuditLog) == []
    # the outcome tabs narrow the table
    refused = page(client.get(soup.find("a", string=lambda s: s and s.startswith("不导入"))["href"]))
    assert len(refused.select("table.list tbody tr")) == 8


def test_commit_creates_accounts_and_recognitions(client, admin, mixed, app):
    response = upload(client, sheet(mixed["rows"]))
    preview_url = response.headers["Location"]
    token = preview_url.rsplit("/", 1)[-1]
    response = client.post(f"/institutions/import/{token}/commit")
    assert response.status_code == 303 and response.headers["Location"].startswith("/jobs/")  # a job's page
    soup = page(client.get(response.headers["Location"]))
    text = text_of(soup)
    assert "已完成" in text and soup.find(id="job-progress").find("a", href="/institutions").text == "返回"
    assert "导入完成：新建帐户并认定 2 家，已有帐户新增认定 1 家，跳过 1 行，不导入 8 行" in text
    assert "湘潭市中小企业服务中心（" in text and "请在用户管理中为其重置密码" in text
    new1, new2 = mixed["new"]
    first = _all(Institution, Institution.uscc == new1)[0]
    assert first.name == "湖南新建融资服务有限公司" and first.contact == "王经理" and first.phone == "13800001111"
    assert (first.city_code, first.county_code) == ("430100", "430102")
    assert first.institution_type.name == "综合服务机构" and first.unit_nature.name == "企业"
    assert first.platform.name == "长沙市中小企业公共服务平台"
    assert [c.name for c in first.service_categories] == ["政策服务", "融资服务"]
    assert first.publish_contact is False
    user = first.user
    assert user.username == new1 and user.role == "institution" and user.must_change_password
    assert user.password_hash and not user.check_password("")
    second = _all(Institution, Institution.uscc == new2)[0]
    assert second.unit_nature.name == "事业单位" and second.city_code == "430300" and second.county_code is None
    recognitions = {r.institution_id: r for r in _all(Recognition)}
    for institution in (first, second, mixed["existing"].institution):
        recognition = recognitions[institution.id]
        assert (recognition.term_start, recognition.term_end, recognition.application_id) == (2023, 2026, None)
        assert recognition.created_by_id == admin.id
    assert _all(Institution, Institution.id == mixed["existing"].institution.id)[0].name == "已注册的服务中心"
    [sms] = _all(SmsMessage)
    assert sms.phone == "13800001111" and new1 in sms.text and "忘记密码" in sms.text
    actions = sorted(entry.action for entry in _all(AuditLog))
    assert actions == ["directory.import"] + ["institution.import"] * 2 + ["recognition.import"] * 3
    assert not os.listdir(os.path.join(app.config["UPLOAD_DIR"], "imports"))
    # the sheet is gone: its preview and a second commit say so
    assert client.get(preview_url).status_code == 404  # no longer this session's import
    # importing the same sheet again skips everything already there
    soup = _preview(client, upload(client, sheet(mixed["rows"])))
    outcomes = _outcomes(soup)
    assert {name for name, (outcome, _) in outcomes.items() if outcome == "已在名单中，跳过"} == {
        "湖南新建融资服务有限公司",
        "湘潭市中小企业服务中心",
        "已注册的服务中心（新名称）",
        "已在名单中的机构",
    }
    assert "没有可以导入的行" in text_of(soup)


def test_the_imported_list_is_the_directory(client, admin, app_ctx):
    rows = [
        [f"导入机构{n}", uscc_for(950 + n), "长沙市", "", "", "联系人", f"1380000{n:04d}", "2023-2026", ""]
        for n in range(3)
    ]
    token = upload(client, sheet(rows)).headers["Location"].rsplit("/", 1)[-1]
    client.post(f"/institutions/import/{token}/commit")
    client.post("/auth/logout")
    from app.utils import local_today

    names = [a.get_text() for a in page(client.get("/institutions")).select("#results td.name-col a")]
    assert sorted(names) == ([f"导入机构{n}" for n in range(3)] if 2023 <= local_today().year <= 2026 else [])


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("名单.xls", io.BytesIO(b"\xd0\xcf\x11\xe0"), "只能导入 .xlsx 格式"),
        ("名单.xlsx", io.BytesIO(b"not a workbook"), "无法读取该文件"),
        ("名单.xlsx", io.BytesIO(b""), "文件是空的"),
    ],
)
def test_unusable_files(client, admin, name, data, message, app):
    soup = page(upload(client, data, name))
    assert message in text_of(soup.select_one("#field-sheet"))
    folder = os.path.join(app.config["UPLOAD_DIR"], "imports")
    assert not os.path.exists(folder) or not os.listdir(folder)


def test_missing_file(client, admin):
    soup = page(client.post("/institutions/import", data={}, content_type="multipart/form-data"))
    assert "请选择要导入的 Excel 文件" in text_of(soup)


def test_sheet_without_the_columns(client, admin):
    soup = page(upload(client, sheet([["甲", "乙"]], headings=["名称", "代码"])))
    assert "没有找到表头" in text_of(soup)
    soup = page(upload(client, sheet([["甲", uscc_for(1)]], headings=["机构名称", "统一社会信用代码"])))
    assert "表格缺少“所在市州”“认定期限”列" in text_of(soup)
    soup = page(upload(client, sheet([], title_rows=0)))
    assert "表格中没有数据行" in text_of(soup)


def test_discard(client, admin, app, mixed):
    token = upload(client, sheet(mixed["rows"])).headers["Location"].rsplit("/", 1)[-1]
    response = client.post(f"/institutions/import/{token}/discard")
    assert response.headers["Location"] == "/institutions/import"
    assert "已取消导入" in text_of(page(client.get("/institutions/import")))
    assert not os.listdir(os.path.join(app.config["UPLOAD_DIR"], "imports"))
    assert client.post(f"/institutions/import/{token}/commit").status_code == 404


def test_another_session_cannot_use_the_sheet(client, app, admin, mixed):
    token = upload(client, sheet(mixed["rows"])).headers["Location"].rsplit("/", 1)[-1]
    other = app.test_client()
    login(other, make_province_admin())
    assert other.get(f"/institutions/import/{token}").status_code == 404
    assert other.post(f"/institutions/import/{token}/commit").status_code == 404
    assert other.get("/institutions/import/../../etc").status_code == 404


def test_province_admins_only(client, app_ctx):
    login(client, make_city_admin())
    assert client.get("/institutions/import").status_code == 403
    assert client.post("/institutions/import").status_code == 403


def test_template_download(client, admin):
    response = client.get("/institutions/import/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    headings = [c.value for c in workbook.worksheets[0][1]]
    assert headings[:8] == [
        "机构名称",
        "统一社会信用代码",
        "所在市州",
        "所在区县",
        "机构类型",
        "联系人",
        "电话",
        "认定期限",
    ]
    assert "填写说明" in workbook.sheetnames
    # the template, filled in, imports
    ws = workbook.worksheets[0]
    ws.append(
        [
            "模板填写的机构",
            uscc_for(977),
            "株洲市",
            "",
            "专业服务机构",
            "刘",
            "13900009999",
            "2023-2026",
            "",
            "",
            "",
            "",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    assert _outcomes(_preview(client, upload(client, buffer)))["模板填写的机构"][0] == "新建帐户并认定"
