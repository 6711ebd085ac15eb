"""帮助: the 答疑 page is linked from the footer and the login page, and offers the manual as .docx."""

import io
from urllib.parse import unquote

from docx import Document

from app.blueprints.portal.manual import MANUAL_TEXT, manual_sections
from tests.helpers import page


def test_help_is_linked_from_the_footer_and_the_login_page(client):
    for path in ("/", "/auth/login"):
        soup = page(client.get(path))
        assert soup.find("a", href="/help", string="系统操作问题答疑") is not None, path
    assert page(client.get("/auth/login")).select_one(".auth-links a[href='/help']") is not None


def test_manual_download(client):
    link = page(client.get("/help")).find("a", href="/help/manual.docx")
    assert link is not None and "操作手册" in link.get_text()
    response = client.get("/help/manual.docx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "湖南省中小微企业核心服务机构调度管理系统操作手册.docx" in unquote(response.headers["Content-Disposition"])
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "1. 进入系统",
        "2. 登录",
        "3. 核心服务机构申报",
        "4. 核心服务机构调度管理",
        "5. 优秀评选",
        "6. 企业投诉",
        "7. 系统操作问题答疑",
    ]
    questions = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert len(questions) == 5 and questions[0].startswith("(1) 用户无法打开")
    text = "\n".join(p.text for p in document.paragraphs)
    assert "允许上传 [.zip, .7z, .rar, .txt, .doc, .docx, .xls, .xlsx, .ppt, .pptx, .pdf] 格式的文件" in text
    assert "0731-89706287" in text and "<input" not in text and "The screenshot" not in text


def test_the_manual_copy_is_in_the_repository():
    # the app reads its own copy at runtime, never ../shared
    assert MANUAL_TEXT.is_file() and "reference" in MANUAL_TEXT.parts
    assert len(manual_sections()) == 7
