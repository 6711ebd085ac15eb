"""app.spreadsheets: text is written as text (never a formula), numbers as numbers, and characters
XML cannot hold are removed, with openpyxl (write-only and normal) and with XlsxWriter."""
import io

import pytest
from openpyxl import Workbook
from xlsxwriter import Workbook as XlsxWorkbook

from app.spreadsheets import XLSXWRITER_OPTIONS, append_row, write_cell, xlsxwriter_row, xml_text
from tests.spreadsheet_checks import NASTY, cells, formulas_in

ROW = [*NASTY, "联系人\x0b张三\x00", "简介\ufffe", 12, 3.5, None, ""]


def _openpyxl(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("导出") if write_only else workbook.active
    append_row(sheet, ROW)
    if not write_only:
        write_cell(sheet, 3, 1, "=1+2")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsxwriter():
    out = io.BytesIO()
    workbook = XlsxWorkbook(out, {"constant_memory": True, **XLSXWRITER_OPTIONS})
    sheet = workbook.add_worksheet("导出")
    xlsxwriter_row(sheet, 0, ROW)
    sheet.write_row(1, 0, ["http://example.com/x"])  # the options alone keep plain write() from linking
    workbook.close()
    return out.getvalue()


@pytest.mark.parametrize("write", [lambda: _openpyxl(True), lambda: _openpyxl(False), _xlsxwriter], ids=["write-only", "normal", "xlsxwriter"])
def test_text_is_text_and_numbers_are_numbers(write):
    data = write()
    assert formulas_in(data) == []
    found = cells(data)
    for text in NASTY:
        assert found.get(text) == "s", (text, found)
    assert found["联系人张三"] == "s" and found["简介"] == "s"
    assert found[12] == "n" and found[3.5] == "n"


def test_xml_text_removes_what_xml_cannot_hold():
    assert xml_text("a\x00b\x0bc\x1fd\ufffee\uffff") == "abcde"
    assert xml_text("第一行\n第二行\t缩进\r") == "第一行\n第二行\t缩进\r"
    assert xml_text(None) == "" and xml_text(12) == "12"
