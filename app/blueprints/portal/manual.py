"""The operations manual as a Word document for users to download (帮助 → 操作手册下载).

The text is app/reference/operations-manual.txt (a copy of the manual kept in the repository, with
the screenshots' form transcriptions reduced to plain text). Numbered sections ("3.核心服务机构申报")
become headings, the "(1) ..." questions of 系统操作问题答疑 sub-headings, "- " lines bullets. Built once per
process and rebuilt when the text file changes.
"""

import re
from io import BytesIO
from pathlib import Path

from app.documents import official_document

MANUAL_TEXT = Path(__file__).resolve().parents[2] / "reference" / "operations-manual.txt"
DOWNLOAD_NAME = "湖南省中小微企业核心服务机构调度管理系统操作手册.docx"
SECTION_RE = re.compile(r"^(\d{1,2})\.\s*(\S.*)$")
STEP_RE = re.compile(r"^[(（](\d{1,2})[)）]\s*(\S.*)$")
FAQ_SECTION = "问题答疑"  # in this section "(n)" lines are question titles; elsewhere they are steps

_cache = {}


def manual_sections(text=None):
    """The numbered section titles, in order (for the help page and the tests)."""
    text = MANUAL_TEXT.read_text(encoding="utf-8") if text is None else text
    return [f"{m.group(1)}. {m.group(2)}" for m in map(SECTION_RE.match, text.splitlines()) if m]


def _build(text):
    document = official_document()
    lines = text.splitlines()
    title = next((line for line in lines if line.strip()), "操作手册")
    document.add_heading(title.strip(), level=0)
    started = faq = False
    for line in lines:
        line = line.strip()
        if not started:
            started = line == title.strip()
            continue
        if not line:
            continue
        section = SECTION_RE.match(line)
        step = STEP_RE.match(line)
        if section:
            document.add_heading(f"{section.group(1)}. {section.group(2)}", level=1)
            faq = FAQ_SECTION in section.group(2)
        elif step and faq:
            document.add_heading(line, level=2)
        elif step:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"（{step.group(1)}）").bold = True
            paragraph.add_run(step.group(2))
        elif line.startswith("- "):
            document.add_paragraph(line[2:], style="List Bullet")
        else:
            document.add_paragraph(line)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def manual_docx():
    """The manual as .docx bytes."""
    stamp = MANUAL_TEXT.stat().st_mtime_ns
    if _cache.get("stamp") != stamp:
        _cache["docx"] = _build(MANUAL_TEXT.read_text(encoding="utf-8"))
        _cache["stamp"] = stamp
    return _cache["docx"]
