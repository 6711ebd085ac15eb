"""字典管理 and 所属平台: add, edit, retire; old records keep what they used."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.extensions import db
from app.reference.models import InstitutionType, Platform, ServiceCategory, UnitNature
from app.reference.services import dict_items, platforms
from tests.admin.conftest import count, fresh
from tests.factories import make_institution
from tests.helpers import page, text_of


def test_dict_tabs_and_table(province):
    soup = page(province.get("/admin/dicts"))
    tabs = [a.get_text(strip=True) for a in soup.select(".tabs a")]
    assert tabs == ["单位性质", "机构类型", "服务类别"]
    assert soup.select_one(".tabs a[aria-current]").get_text(strip=True) == "单位性质"
    headers = [th.get_text(strip=True) for th in soup.select("table.list thead th")]
    assert headers == ["排序", "名称", "信用代码前缀", "状态", "操作"]
    assert "事业单位" in text_of(soup) and "12" in text_of(soup)
    soup = page(province.get("/admin/dicts/service_category"))
    assert "信用代码前缀" not in text_of(soup.find("table"))
    assert len(soup.select("table.list tbody tr")) == 16
    assert province.get("/admin/dicts/nonsense").status_code == 404


def test_new_dict_item_and_duplicate(province, app_ctx):
    soup = page(province.get("/admin/dicts/service_category/new"))
    assert soup.find(id="sort_order")["value"] == "16"  # after the last one
    response = province.post(
        "/admin/dicts/service_category/new", data={"name": "人才培训服务", "sort_order": "20", "active": "y"}
    )
    assert response.status_code == 303
    item = db.session.scalar(sa.select(ServiceCategory).where(ServiceCategory.name == "人才培训服务"))
    assert item.sort_order == 20 and item.active
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "dict.create"))
    assert entry.after["name"] == "人才培训服务"
    soup = page(
        province.post("/admin/dicts/service_category/new", data={"name": "融资服务", "sort_order": "3", "active": "y"})
    )
    assert "服务类别中已有“融资服务”" in soup.find(id="field-name").get_text()
    soup = page(
        province.post("/admin/dicts/service_category/new", data={"name": "新的", "sort_order": "abc", "active": "y"})
    )
    assert soup.find(id="field-sort_order").select(".error-message")
    # the same name in another list is fine
    response = province.post(
        "/admin/dicts/institution_type/new", data={"name": "融资服务", "sort_order": "5", "active": "y"}
    )
    assert response.status_code == 303


def test_edit_dict_item_audits_changed_fields(province, app_ctx):
    item = db.session.scalar(sa.select(UnitNature).where(UnitNature.name == "社会团体"))
    page(province.get(f"/admin/dicts/item/{item.id}/edit"))
    response = province.post(
        f"/admin/dicts/item/{item.id}/edit",
        data={"name": "社会组织", "code": "51", "sort_order": str(item.sort_order), "active": "y"},
    )
    assert response.status_code == 303
    assert fresh(UnitNature, item.id).name == "社会组织"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "dict.update"))
    assert entry.before == {"name": "社会团体"} and entry.after == {"name": "社会组织"}
    soup = page(
        province.post(
            f"/admin/dicts/item/{item.id}/edit",
            data={"name": "社会组织", "code": "5", "sort_order": "1", "active": "y"},
        )
    )
    assert "2 位" in soup.find(id="field-code").get_text()
    assert province.get("/admin/dicts/item/99999/edit").status_code == 404


def test_retire_keeps_old_records_readable(province, app_ctx):
    inst = make_institution(name="老机构")
    nature_id = inst.institution.unit_nature_id
    response = province.post(f"/admin/dicts/item/{nature_id}/retire")
    assert response.status_code == 303
    nature = fresh(UnitNature, nature_id)
    assert nature.active is False
    # new choices no longer offer it; the old record still reads it
    assert nature_id not in [i.id for i in dict_items("unit_nature")]
    assert nature_id in [i.id for i in dict_items("unit_nature", include_id=nature_id)]
    soup = page(province.get(f"/admin/users/{inst.id}"))
    assert "企业 已停用" in text_of(soup)
    assert db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "dict.retire")).after == {"active": False}
    row = [
        r
        for r in page(province.get("/admin/dicts")).select("table.list tbody tr")
        if "企业" == r.find_all("td")[1].get_text(strip=True)
    ][0]
    assert "停用" in row.find_all("td")[3].get_text() and row.find("button").get_text(strip=True) == "启用"
    province.post(f"/admin/dicts/item/{nature_id}/restore")
    assert fresh(UnitNature, nature_id).active is True
    assert count(AuditLog, AuditLog.action == "dict.restore") == 1


def test_retire_twice_is_refused(province, app_ctx):
    item = db.session.scalar(sa.select(InstitutionType).order_by(InstitutionType.id))
    province.post(f"/admin/dicts/item/{item.id}/retire")
    response = province.post(f"/admin/dicts/item/{item.id}/retire", follow_redirects=True)
    assert "已是停用状态" in text_of(page(response))
    assert count(AuditLog, AuditLog.action == "dict.retire") == 1


def test_platforms_list_new_edit_retire(province, app_ctx):
    inst = make_institution()
    used = inst.institution.platform_id
    soup = page(province.get("/admin/platforms"))
    headers = [th.get_text(strip=True) for th in soup.select("table.list thead th")]
    assert headers == ["排序", "平台名称", "所属市州", "机构数（家）", "状态", "操作"]
    assert len(soup.select("table.list tbody tr")) == 15
    assert "湖南省中小企业公共服务平台" in text_of(soup) and "全省" in text_of(soup)

    response = province.post(
        "/admin/platforms/new",
        data={"name": "湘江新区服务平台", "city_code": "430100", "sort_order": "20", "active": "y"},
    )
    assert response.status_code == 303
    new = db.session.scalar(sa.select(Platform).where(Platform.name == "湘江新区服务平台"))
    assert new.city_code == "430100"
    soup = page(
        province.post("/admin/platforms/new", data={"name": "湘江新区服务平台", "sort_order": "21", "active": "y"})
    )
    assert "已有名为" in soup.find(id="field-name").get_text()

    response = province.post(
        f"/admin/platforms/{new.id}/edit",
        data={"name": "湘江新区中小企业服务平台", "city_code": "", "sort_order": "20", "active": "y"},
    )
    assert response.status_code == 303
    new = fresh(Platform, new.id)
    assert new.name == "湘江新区中小企业服务平台" and new.city_code is None
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "platform.update"))
    assert entry.before == {"name": "湘江新区服务平台", "city_code": "430100"}

    province.post(f"/admin/platforms/{used}/retire")
    assert fresh(Platform, used).active is False
    assert used not in [p.id for p in platforms()]
    assert "已停用" in text_of(page(province.get(f"/admin/users/{inst.id}")))
    assert count(AuditLog, AuditLog.action.in_(["platform.create", "platform.update", "platform.retire"])) == 3
    assert province.get("/admin/platforms/99999/edit").status_code == 404
