"""名单导入 refuses a zip bomb quickly (issue 13 item 10): a .xlsx of a few KB that unpacks to many MB,
or holds millions of (blank) rows, is refused with a clear message after unpacking no more of it than
its limits need (measured in bytes unpacked, not in seconds: speed is `make bench`'s to measure)."""

import io
import re
import zipfile

import pytest

from app import spreadsheets
from app.blueprints.portal import importer
from tests.helpers import page, text_of
from tests.portal.test_import import admin, sheet, upload  # noqa: F401  (admin is a fixture)

SHEET = "xl/worksheets/sheet1.xml"


def _with_sheet_xml(transform):
    """A real .xlsx whose first sheet's XML is rewritten by ``transform`` (str -> iterable of str)."""
    original = zipfile.ZipFile(sheet([["长沙某机构", "914301000000000000", "长沙市"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in original.infolist():
            if item.filename != SHEET:
                bomb.writestr(item.filename, original.read(item.filename))
                continue
            with bomb.open(SHEET, "w") as target:
                for part in transform(original.read(SHEET).decode()):
                    target.write(part.encode())
    out.seek(0)
    return out


def _blank_rows(count, dimension=None):
    def transform(xml):
        xml = re.sub(r"<dimension [^>]*/>", f'<dimension ref="{dimension}"/>' if dimension else "", xml)
        head, tail = xml.split("</sheetData>")
        yield head
        for _ in range(count // 10_000):
            yield "<row/>" * 10_000
        yield "</sheetData>" + tail

    return transform


UNPACKED_AT_MOST = 2 * 1024 * 1024  # what a refusal may unpack: its limits' worth (100,000 strings are 1.7 MB)


def _refused_quickly(client, data, message, monkeypatch):
    assert len(data.getvalue()) < 200 * 1024  # small on the wire
    unpacked = [0]
    read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        chunk = read(self, n)
        unpacked[0] += len(chunk)
        return chunk

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    soup = page(upload(client, data))
    monkeypatch.undo()
    assert message in text_of(soup.select_one("#field-sheet")), text_of(soup)[:300]
    assert unpacked[0] <= UNPACKED_AT_MOST, unpacked[0]


def test_a_sheet_that_unpacks_to_many_megabytes_is_refused(client, admin, monkeypatch):  # noqa: F811
    data = _with_sheet_xml(_blank_rows(12_000_000))  # 72 MB of XML
    _refused_quickly(client, data, "解压后超过 20MB", monkeypatch)


def test_a_sheet_of_millions_of_blank_rows_is_refused(client, admin, monkeypatch):  # noqa: F811
    data = _with_sheet_xml(_blank_rows(3_000_000))  # 18 MB: under the size limit, no <dimension>
    _refused_quickly(client, data, f"表格超过 {importer.MAX_LINES} 行", monkeypatch)


def test_a_sheet_whose_dimension_says_too_many_rows_is_refused(client, admin, monkeypatch):  # noqa: F811
    data = _with_sheet_xml(_blank_rows(1_000_000, dimension="A1:I1000000"))  # 6 MB, its <dimension> first
    _refused_quickly(client, data, f"表格超过 {importer.MAX_LINES} 行", monkeypatch)


@pytest.mark.parametrize("entries", [1001])
def test_an_archive_of_too_many_entries_is_refused(client, admin, entries, monkeypatch):  # noqa: F811
    data = io.BytesIO()
    with zipfile.ZipFile(sheet([]), "r") as original, zipfile.ZipFile(data, "w") as archive:
        for item in original.infolist():
            archive.writestr(item.filename, original.read(item.filename))
        for n in range(entries):
            archive.writestr(f"xl/media/{n}.bin", b"")
    data.seek(0)
    _refused_quickly(client, data, "解压后超过 20MB", monkeypatch)


def test_too_many_shared_strings_are_refused(client, admin, monkeypatch):  # noqa: F811
    def with_strings(count):
        data = io.BytesIO()
        with zipfile.ZipFile(sheet([]), "r") as original, zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in original.infolist():
                archive.writestr(item.filename, original.read(item.filename))
            archive.writestr(
                "xl/sharedStrings.xml",
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + "<si><t>x</t></si>" * count
                + "</sst>",
            )
        data.seek(0)
        return data

    _refused_quickly(client, with_strings(100_001), "文字单元格超过 100,000 个", monkeypatch)
    assert "表格中没有数据行" in text_of(page(upload(client, with_strings(10))))


def test_rows_are_counted_across_chunks():
    """A <row> split by the 64 KB read boundary is counted once."""
    xml = b"<worksheet><sheetData>" + b"<row/>" * 30_000 + b"</sheetData></worksheet>"
    assert spreadsheets.count_tags(io.BytesIO(xml), spreadsheets.ROW_TAG, 10**9, until_dimension=True) == 30_000
    with_dimension = (
        b'<worksheet><dimension ref="A1:B2"/><sheetData>' + b"<row/>" * 30_000 + b"</sheetData></worksheet>"
    )
    assert spreadsheets.count_tags(io.BytesIO(with_dimension), spreadsheets.ROW_TAG, 10, until_dimension=True) == 0
    prefixed = b"<x:worksheet><x:sheetData>" + b'<x:row r="1">' * 7 + b"</x:sheetData></x:worksheet>"
    assert spreadsheets.count_tags(io.BytesIO(prefixed), spreadsheets.ROW_TAG, 10**9, until_dimension=True) == 7
