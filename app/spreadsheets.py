"""Spreadsheets in and out: cells every export writes safely (text stays text, nothing an .xlsx or
.docx cannot hold), and a look inside an uploaded .xlsx before openpyxl opens it (``xlsx_problem``).

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
import zipfile
import zlib

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


# ---- reading an uploaded .xlsx safely ------------------------------------------------------------
# A .xlsx is a zip: a few KB of it can unpack to gigabytes, or hold millions of blank rows that keep
# openpyxl busy for a minute (a "zip bomb"). ``xlsx_problem`` looks before openpyxl opens anything:
# what the archive says it unpacks to (zipfile never unpacks more than an entry declares); the rows
# of every sheet without a <dimension> (openpyxl parses such a sheet whole just to open the
# workbook) and the shared strings (read whole when it opens), counted while streaming the XML and
# stopping at the limit. A sheet's <dimension> then bounds what openpyxl reads of it.

SHEET_PART_RE = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def _tag_re(name):
    return re.compile(rb"<(?:\w+:)?" + name + rb"[\s/>]")


ROW_TAG, STRING_TAG, DIMENSION_TAG, DATA_TAG = (_tag_re(n) for n in (b"row", b"si", b"dimension", b"sheetData"))


def count_tags(stream, tag, limit, *, until_dimension=False):
    """How many ``tag`` elements the XML stream holds, reading only until ``limit`` is passed.

    With ``until_dimension``: 0 as soon as a <dimension> comes before <sheetData> (openpyxl then
    reads no further when it opens the workbook)."""
    count, tail, counting = 0, b"", not until_dimension
    while chunk := stream.read(64 * 1024):
        text = tail + chunk
        start = 0
        if not counting:
            dimension, data = DIMENSION_TAG.search(text), DATA_TAG.search(text)
            if dimension and (data is None or dimension.start() < data.start()):
                return 0
            if data:
                counting, start = True, data.start()
        if counting:
            # a match lying wholly in the carried-over tail was counted with the previous chunk
            count += sum(1 for match in tag.finditer(text, start) if match.end() > len(tail))
            if count > limit:
                return count
        tail = text[-32:]
    return count


def xlsx_problem(path, *, max_unpacked=20 * 1024 * 1024, max_entries=1000, max_rows=5000, max_strings=100_000,
                 too_many_rows=None, unreadable="无法读取该文件，请确认是 .xlsx 文件。"):
    """Why the .xlsx at ``path`` must not be opened with openpyxl (a message for the user), or None.

    Reads no more of the archive than the limits need, so a bomb is refused in milliseconds."""
    too_big = f"表格内容过大（解压后超过 {max_unpacked // (1024 * 1024)}MB），请删除图片和多余的工作表后再导入。"
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries or sum(entry.file_size for entry in entries) > max_unpacked:
                return too_big
            for entry in entries:
                if SHEET_PART_RE.match(entry.filename):
                    with archive.open(entry) as stream:
                        if count_tags(stream, ROW_TAG, max_rows, until_dimension=True) > max_rows:
                            return too_many_rows or f"表格超过 {max_rows} 行，请删除空行或分成几个文件。"
                elif entry.filename == "xl/sharedStrings.xml":
                    with archive.open(entry) as stream:
                        if count_tags(stream, STRING_TAG, max_strings) > max_strings:
                            return f"表格中的文字单元格超过 {max_strings:,} 个，请删除多余内容或分成几个文件。"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError):
        return unreadable  # damaged, encrypted (RuntimeError) or oddly compressed (NotImplementedError)
    return None
