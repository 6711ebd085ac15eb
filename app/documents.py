"""Word documents in 公文 form (GB/T 9704-2012): every .docx the app generates starts here.

A4 with the standard type area (天头 37 mm, 订口 28 mm, a 156 × 225 mm 版心); the title in 小标宋 二号,
centred; body text in 仿宋 三号 with a two-character first-line indent and a fixed 28 pt line
pitch (22 lines a page); 一级标题 in 黑体 三号, 二级标题 in 楷体 三号; tables in 仿宋 小四. Fonts are
set as East Asian fonts with the language zh-CN, so Word and WPS do not fall back to a Japanese
or Western face; the names are the ones Chinese offices have installed (方正小标宋简体,
仿宋_GB2312, 黑体, 楷体_GB2312), and a reader without them gets its own 宋体/仿宋 substitute.
"""

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
TWO_HAO, THREE_HAO, SMALL_FOUR = Pt(22), Pt(16), Pt(12)
LINE_PITCH = Pt(28)


def _fonts(style_or_run, name, size, *, bold=False):
    """Set ``name`` as the ASCII, high-ANSI and East Asian font (no theme font overrides it), the
    size, plain black, and the language zh-CN."""
    font = style_or_run.font
    font.name = name
    font.size = size
    font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    properties = style_or_run.element.get_or_add_rPr()
    fonts = properties.get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attribute), name)
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), "zh-CN")
    language.set(qn("w:eastAsia"), "zh-CN")


def _paragraph_format(style, *, indent=False, align=None, before=0, after=0):
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.first_line_indent = THREE_HAO * 2 if indent else None
    if align is not None:
        fmt.alignment = align


def official_document():
    """A new Document with the page, fonts and styles of a 公文."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = document.styles
    _fonts(styles["Normal"], BODY_FONT, THREE_HAO)
    _paragraph_format(styles["Normal"], indent=True)
    for name, font, size, align, before, after in (
        ("Title", TITLE_FONT, TWO_HAO, WD_ALIGN_PARAGRAPH.CENTER, 0, 28),
        ("Heading 1", TITLE_FONT, TWO_HAO, WD_ALIGN_PARAGRAPH.CENTER, 0, 28),
        ("Heading 2", HEADING_FONT, THREE_HAO, WD_ALIGN_PARAGRAPH.LEFT, 0, 0),
        ("Heading 3", SUBHEADING_FONT, THREE_HAO, WD_ALIGN_PARAGRAPH.LEFT, 0, 0),
    ):
        style = styles[name]
        _fonts(style, font, size)
        _paragraph_format(style, indent=name == "Heading 3", align=align, before=before, after=after)
        style.paragraph_format.keep_with_next = True
    # the title style's bottom border (python-docx's template) does not belong in a 公文
    borders = styles["Title"].element.pPr.find(qn("w:pBdr")) if styles["Title"].element.pPr is not None else None
    if borders is not None:
        borders.getparent().remove(borders)
    table = styles["Table Grid"]
    _fonts(table, BODY_FONT, SMALL_FOUR)
    return document


def table_text(table):
    """Table cells in 仿宋 小四, single-spaced and not indented (cells inherit the body's style)."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                fmt = paragraph.paragraph_format
                fmt.first_line_indent = Pt(0)
                fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
                for run in paragraph.runs:
                    _fonts(run, BODY_FONT, SMALL_FOUR)
    return table


def right_aligned(document, text):
    """A signature or date line: right-aligned, no indent."""
    paragraph = document.add_paragraph(text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.paragraph_format.first_line_indent = Pt(0)
    return paragraph
