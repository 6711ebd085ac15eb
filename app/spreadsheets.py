"""Cells every export writes safely: text stays text, and nothing an .xlsx or .docx cannot hold.

Exports carry what users typed (机构名称, 联系人, 异常说明 ...). Two things go wrong with raw text:

- A value starting with ``=`` is a live formula to openpyxl and to XlsxWriter's ``write()``
  (``=HYPERLINK(...)`` can leak other cells), and openpyxl turns "#N/A" into an error cell. Text is
  therefore always written as a string cell (openpyxl data type "s", XlsxWriter ``write_string``)
  so it keeps exactly the value typed; no apostrophe is added. Numbers stay numbers.
- XML 1.0 cannot hold most control characters (``\\x0b`` from a pasted Word text, NUL) nor
  U+FFFE/U+FFFF: openpyxl and python-docx raise, which made a whole export fail. They are removed.
  (openpyxl's ILLEGAL_CHARACTERS_RE misses U+FFFE/U+FFFF, which lxml refuses too, so the XML
  ``Char`` production itself is used here.)
"""
import re

from openpyxl.cell.cell import Cell

# Everything outside XML 1.0's Char production (tab, LF and CR are allowed).
XML_ILLEGAL_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EXCEL_CELL_LIMIT = 32767  # characters Excel keeps in one cell

# XlsxWriter guesses a formula from a leading "=" and a link from "http://"; exports never want either.
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def xml_text(value):
    """``value`` as text an .xlsx or .docx can hold (None becomes "")."""
    if value is None:
        return ""
    return XML_ILLEGAL_RE.sub("", str(value))


def _cell_text(value):
    return xml_text(value)[:EXCEL_CELL_LIMIT]


def text_cell(sheet, value):
    """An openpyxl cell for ``sheet.append`` (write-only or not) holding ``value``; text is never a formula."""
    # what openpyxl's WriteOnlyCell makes; normal sheets take it too (append sets its row and column)
    return put(Cell(sheet, row=1, column=1), value)


def put(cell, value):
    """Set an openpyxl cell's value: text as a string cell, anything else as openpyxl would."""
    if isinstance(value, str):
        cell.value = _cell_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def safe_row(sheet, values):
    """``values`` ready for ``sheet.append``: each value its own cell, text as a string cell.

    (Write-only sheets reuse one cell for plain values after a Cell was passed, so every value
    gets a cell of its own.)"""
    return [None if value is None else text_cell(sheet, value) for value in values]


def append_row(sheet, values):
    """``sheet.append(values)`` (openpyxl, write-only or not) with text kept as text."""
    sheet.append(safe_row(sheet, values))


def write_cell(sheet, row, column, value):
    """``sheet.cell(row, column, value)`` (openpyxl) with text kept as text; returns the cell."""
    return put(sheet.cell(row, column), value)


def xlsxwriter_row(sheet, row, values, cell_format=None):
    """XlsxWriter's ``write_row`` with text written by ``write_string`` and numbers as numbers."""
    for column, value in enumerate(values):
        if value is None or value == "":
            sheet.write_blank(row, column, None, cell_format)
        elif isinstance(value, str):
            sheet.write_string(row, column, _cell_text(value), cell_format)
        else:
            sheet.write(row, column, value, cell_format)
