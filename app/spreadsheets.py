"""Spreadsheets in and out: every .xlsx the app writes goes through XlsxWriter here, with cells
written safely (text stays text, nothing an .xlsx or .docx cannot hold); openpyxl only reads the
名单导入 upload, after a look inside it (``xlsx_problem``).

Exports carry what users typed (机构名称, 联系人, 异常说明 ...). Two things go wrong with raw text:

- A value starting with ``=`` is a live formula to XlsxWriter's ``write()`` (``=HYPERLINK(...)``
  can leak other cells). Text is therefore always written with ``write_string`` (and the
  workbook's options turn off every guess) so it keeps exactly the value typed; no apostrophe is
  added. Numbers stay numbers.
- XML 1.0 cannot hold most control characters (``\\x0b`` from a pasted Word text, NUL) nor
  U+FFFE/U+FFFF: python-docx raises (a whole document failed), and a cell would show escape codes
  instead of the text. They are removed (the XML ``Char`` production itself is used here).
"""

import re
import tempfile
import zipfile
import zlib

from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

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


class PrintableWorksheet(Worksheet):
    """A sheet that prints on A4 as offices file it: landscape, fitted to the page width, the
    header row repeated on every page, centred horizontally."""

    def _initialize(self, init_data):  # the workbook names the sheet here; repeat_rows needs the name
        super()._initialize(init_data)
        self.set_paper(9)  # A4
        self.set_landscape()
        self.fit_to_pages(1, 0)  # one page wide, as many tall as needed
        self.repeat_rows(0)
        self.center_horizontally()
        self.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)


class PrintableWorkbook(Workbook):
    worksheet_class = PrintableWorksheet


def xlsx_workbook(out, *, constant_memory=False):
    """An XlsxWriter workbook writing into ``out`` (a path or a binary file; call ``close()``) that
    never makes text a formula, a link or a number, and whose sheets print on A4 (landscape, fit to
    width, repeated header row). With ``constant_memory`` each row goes to disk as it is written,
    so rows must come in order (big exports)."""
    return PrintableWorkbook(out, {"constant_memory": constant_memory, **XLSXWRITER_OPTIONS})


def xlsxwriter_cell(sheet, row, column, value, cell_format=None):
    """One cell (0-based ``row``/``column``): text by ``write_string``, numbers as numbers, None or "" blank."""
    if value is None or value == "":
        sheet.write_blank(row, column, None, cell_format)
    elif isinstance(value, str):
        sheet.write_string(row, column, _cell_text(value), cell_format)
    else:
        sheet.write(row, column, value, cell_format)


def xlsxwriter_row(sheet, row, values, cell_format=None):
    """XlsxWriter's ``write_row`` with text written by ``write_string`` and numbers as numbers."""
    for column, value in enumerate(values):
        xlsxwriter_cell(sheet, row, column, value, cell_format)


def xlsxwriter_merge(sheet, row, first_column, last_column, value, cell_format=None):
    """A title merged across columns of one row; its text written as text (``merge_range`` alone uses ``write()``)."""
    sheet.merge_range(row, first_column, row, last_column, "", cell_format)
    xlsxwriter_cell(sheet, row, first_column, value, cell_format)


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


def xlsx_problem(
    path,
    *,
    max_unpacked=20 * 1024 * 1024,
    max_entries=1000,
    max_rows=5000,
    max_strings=100_000,
    too_many_rows=None,
    unreadable="无法读取该文件，请确认是 .xlsx 文件。",
):
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


def xlsx_file(write):
    """A workbook written by ``write(out)`` into a temporary file, rewound for send_file (which
    closes it; the file is gone then). Built afresh for every download: the data is read as of now."""
    out = tempfile.TemporaryFile()
    try:
        write(out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
