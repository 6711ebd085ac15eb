"""Issue 4 in a real browser, JavaScript on and off: manual section 4 word for word (a recognised
institution files a month, exports the 工作总结 template, uploads it, submits), then an admin sees
报送情况 change, approves, and the public 调度大数据 totals move."""

import io
import re

from docx import Document

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in, log_out
from tests.factories import PASSWORD, make_city_admin, make_institution
from tests.reports.conftest import make_report, recognise, report_round


def _activities_total(web):
    web.goto("/big-data")
    tile = web.locator(".stat", has_text="服务活动数")
    return int(tile.locator("b").inner_text().replace(",", "")) if tile.count() else 0


def test_file_a_month_and_see_it_counted(web, app, tmp_path):
    with app.app_context():
        from app.utils import local_today

        today = local_today()
        round_id = report_round(today.year, today.month).id
        institution = make_institution(name="浏览器调度测试机构", city_code="430100", county_code="430102")
        recognise(institution.institution.id)
        earlier = make_institution(name="已报送机构", city_code="430100", county_code="430102")
        recognise(earlier.institution.id)
        make_report(earlier.id, round_id, categories={"政策服务": (5, 10, 4)})
        username, city = institution.username, make_city_admin("430100").username

    assert _activities_total(web) == 5
    log_in(web, city, PASSWORD)
    web.goto("/reports/completeness")
    assert "未报送机构（1 家）" in web.inner_text("main")
    log_out(web)

    # (1) 基础信息 → 核心服务机构调度数据 → 基础数据填报
    log_in(web, username, PASSWORD)
    web.click(".sidemenu >> text=核心服务机构调度数据")
    web.click("button:has-text('基础数据填报') >> nth=0")
    web.wait_for_url(re.compile(r"/reports/\d+/step/basic$"))
    assert "基础数据 / 核心服务机构调度管理 / 新增基础数据填报" in web.inner_text(".breadcrumb")
    assert web.input_value("#ro-name") == "浏览器调度测试机构"

    # (2) the figures, one mistake first
    web.check("input[name=institution_type_id] >> nth=0")
    for name, value in {
        "floor_area": "800",
        "service_assets": "260.50",
        "staff_count": "12",
        "bachelor_count": "15",
        "intermediate_count": "4",
        "revenue": "234.56",
        "service_expense": "120",
        "profit": "-6",
    }.items():
        web.fill(f"[name={name}]", value)
    web.check("input[name=site_type][value='租用']")
    web.fill("input[name$=_activities] >> nth=0", "7")  # 政策服务活动数
    web.click("button:has-text('下一步')")
    web.wait_for_selector(".error-summary")
    assert "本科人数不能超过服务人员数" in web.inner_text("#wizard")
    web.fill("[name=bachelor_count]", "9")

    # (3) 点击这里, 导出工作总结上报模板: the figures just typed are in it
    with web.expect_download() as download:
        web.click("text=点击这里, 导出工作总结上报模板")
    summary = tmp_path / "工作总结.docx"
    download.value.save_as(summary)
    document = Document(io.BytesIO(summary.read_bytes()))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "234.56" in cells and "7" in cells
    snap(web, "report-basic")
    web.click("button:has-text('下一步')")

    # (4) 附件材料上传: the work summary, then 提交
    web.wait_for_url(re.compile(r"/attachments$"))
    # 基本信息 is marked complete (issue 18 item 2), 已保存 HH:MM says so
    assert [" ".join(t.split()) for t in web.locator(".tabs li").all_inner_texts()] == [
        "✓ （已完成） 基本信息",
        "附件材料上传",
    ]
    assert re.search(r"“基本信息”已保存 \d\d:\d\d", web.locator("main").inner_text())
    web.set_input_files("input[name=files]", str(summary))
    web.click("button:has-text('上传')")
    web.wait_for_selector("table.attachments >> text=工作总结.docx")
    snap(web, "report-attachments")
    web.click("button:text-is('提交')")
    web.wait_for_url(re.compile(r"/reports/$"))
    assert "待审核" in web.inner_text("table.list")
    log_out(web)

    # The city admin sees 报送情况 change and approves; the public totals move.
    log_in(web, city, PASSWORD)
    web.goto("/reports/completeness")
    assert "未报送机构（0 家）" in web.inner_text("main")
    snap(web, "report-completeness")
    web.goto("/reports/review")
    web.click("table.list a:text-is('审核') >> nth=0")
    web.check("input[name=action][value=approve]")
    web.click("button:has-text('确定')")
    web.wait_for_url(re.compile(r"/reports/review"))
    log_out(web)
    assert _activities_total(web) == 12
    snap(web, "report-big-data")
