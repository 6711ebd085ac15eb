"""One upload control (issue 18, item 3), JavaScript on and off: the browser's own picker; with
JavaScript the chosen files are listed with size and type and checked before anything is sent (a
file already attached is named, a file the server would refuse stops the upload); 删除 is asked
first (the browser's confirm, or a page of its own without JavaScript) and says 已删除 afterwards."""

from tests.e2e.conftest import snap
from tests.e2e.flows import log_in
from tests.factories import PASSWORD, make_institution
from tests.reports.conftest import make_report, recognise, report_round

PDF = b"%PDF-1.4\n%upload control\n"


def test_choose_check_upload_and_delete(web, app, tmp_path):
    with app.app_context():
        from app.utils import local_today

        today = local_today()
        round_id = report_round(today.year, today.month).id
        owner = make_institution(name="上传测试服务中心", city_code="430100", county_code="430102")
        recognise(owner.institution.id)
        report_id = make_report(owner.id, round_id, status="draft")
        username = owner.username
    log_in(web, username, PASSWORD)
    web.goto(f"/reports/{report_id}/attachments")
    assert web.locator("form[data-upload] input[type=file]").count() == 1  # one picker, no second button

    summary = tmp_path / "工作总结.pdf"
    summary.write_bytes(PDF)
    web.set_input_files("input[name=files]", [str(summary)])
    if web.js:
        assert "工作总结.pdf（1 KB，PDF）" in web.inner_text(".upload-list")
    web.click("button:has-text('上传')")
    web.wait_for_selector("table.attachments >> text=工作总结.pdf")

    if web.js:
        # the same content again under another name, and a type the server refuses: nothing is sent
        again = tmp_path / "工作总结（副本）.pdf"
        again.write_bytes(PDF)
        bad = tmp_path / "setup.exe"
        bad.write_bytes(b"MZ")
        requests = []
        web.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
        web.set_input_files("input[name=files]", [str(again), str(bad)])
        web.wait_for_selector(".upload-list .warning-message")
        listed = web.inner_text(".upload-list")
        assert "与已上传的“工作总结.pdf”内容相同" in listed
        assert "setup.exe" in listed and "格式不允许上传" in listed and "请去掉不能上传的文件" in listed
        snap(web, "upload-checked")
        web.click("button:has-text('上传')")
        web.wait_for_timeout(300)
        assert not requests and web.locator("table.attachments tbody tr").count() == 1
        web.set_input_files("input[name=files]", [])

    # 删除: asked first, then 已删除
    if web.js:
        web.once("dialog", lambda dialog: dialog.accept())
        web.click("table.attachments tr:has-text('工作总结.pdf') >> button:has-text('删除')")
    else:
        web.click("table.attachments tr:has-text('工作总结.pdf') >> button:has-text('删除')")
        web.wait_for_selector("text=确定删除附件“工作总结.pdf”")
        snap(web, "upload-delete-confirm")
        web.click("button:has-text('确定删除')")
    web.wait_for_selector("text=已删除：工作总结.pdf")
    assert "尚未上传附件" in web.inner_text("table.attachments")
    snap(web, "upload-deleted")
