"""Generated documents in 公文 form (app/documents.py) and spreadsheets that print on A4
(app/spreadsheets.py): every .docx and .xlsx the app writes goes through these."""

import io

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from tests.factories import make_institution, make_province_admin, make_round
from tests.helpers import login
from tests.jobs_queue import start_and_download


def east_asian(style):
    fonts = style.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None
    language = style.element.rPr.find(qn("w:lang"))
    assert language is not None and language.get(qn("w:eastAsia")) == "zh-CN"
    return fonts.get(qn("w:eastAsia")), style.font.size


def assert_official(data):
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    size = (round(section.page_width.mm), round(section.page_height.mm))
    assert size == (210, 297)  # A4, not US Letter (stored in twips: compared to the millimetre)
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    styles = document.styles
    assert east_asian(styles["Normal"]) == ("仿宋_GB2312", Pt(16))  # 仿宋 三号
    assert east_asian(styles["Heading 1"]) == ("方正小标宋简体", Pt(22))  # 小标宋 二号
    assert east_asian(styles["Heading 2"]) == ("黑体", Pt(16))
    assert styles["Heading 1"].font.color.rgb == (0, 0, 0)
    assert styles["Normal"].paragraph_format.first_line_indent == Pt(32)  # two characters
    return document


@pytest.fixture
def application(client, app_ctx):
    make_round("application", year=2026)
    login(client, make_institution())
    response = client.post("/applications/new")
    return int(response.headers["Location"].split("/")[2])


@pytest.mark.parametrize("name", ["outline", "declaration"])
def test_application_templates_are_official_documents(client, application, name):
    response = client.get(f"/applications/{application}/templates/{name}")
    assert response.status_code == 200
    document = assert_official(response.data)
    assert document.paragraphs[0].style.name == "Heading 1"


def test_the_quarterly_bulletin_is_an_official_document(client, app_ctx):
    login(client, make_province_admin())
    response = start_and_download(client, "/reports/bulletin/docx", {"year": 2025, "quarter": 1})
    document = assert_official(response.data)
    assert "通报" in document.paragraphs[0].text


def test_the_manual_download_is_one_too(client):
    response = client.get("/help/manual.docx")
    if response.status_code == 404:
        pytest.skip("manual download lives elsewhere")
    assert_official(response.data)


def test_spreadsheets_print_on_a4_landscape_fitted_to_the_width(client, application):
    response = client.get(f"/applications/{application}/templates/staff")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    setup = sheet.page_setup
    assert setup.paperSize == 9 and setup.orientation == "landscape"
    assert (
        sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    )  # 1 is the default XlsxWriter leaves out
    assert sheet.print_title_rows in ("1:1", "$1:$1")  # the header row on every page
