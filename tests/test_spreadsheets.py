"""app.spreadsheets: text is written as text (never a formula), numbers as numbers, and characters
XML cannot hold are removed, by every XlsxWriter helper (row, cell, merged title) in both modes."""

import io

import pytest

from app.spreadsheets import xlsx_workbook, xlsxwriter_cell, xlsxwriter_merge, xlsxwriter_row, xml_text
from tests.spreadsheet_checks import NASTY, cells, formulas_in

ROW = [*NASTY, "联系人\x0b张三\x00", "简介\ufffe", 12, 3.5, None, ""]


def _xlsxwriter(constant_memory):
    out = io.BytesIO()
    workbook = xlsx_workbook(out, constant_memory=constant_memory)
    sheet = workbook.add_worksheet("导出")
    xlsxwriter_row(sheet, 0, ROW)
    sheet.write_row(1, 0, ["http://example.com/x"])  # the options alone keep plain write() from linking
    xlsxwriter_cell(sheet, 2, 0, "=1+2")
    if not constant_memory:
        xlsxwriter_merge(sheet, 3, 0, 4, "=SUM(A1:A3)\x0b标题")
    workbook.close()
    return out.getvalue()


@pytest.mark.parametrize("constant_memory", [True, False], ids=["constant-memory", "normal"])
def test_text_is_text_and_numbers_are_numbers(constant_memory):
    data = _xlsxwriter(constant_memory)
    assert formulas_in(data) == []
    found = cells(data)
    for text in NASTY:
        assert found.get(text) == "s", (text, found)
    assert found["联系人张三"] == "s" and found["简介"] == "s" and found["=1+2"] == "s"
    assert found["http://example.com/x"] == "s"
    assert found[12] == "n" and found[3.5] == "n"
    if not constant_memory:
        assert found["=SUM(A1:A3)标题"] == "s"


def test_xml_text_removes_what_xml_cannot_hold():
    assert xml_text("a\x00b\x0bc\x1fd\ufffee\uffff") == "abcde"
    assert xml_text("第一行\n第二行\t缩进\r") == "第一行\n第二行\t缩进\r"
    assert xml_text(None) == "" and xml_text(12) == "12"
