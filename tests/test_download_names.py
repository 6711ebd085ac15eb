"""Generated downloads (投诉统计, 季度通报, 申报 templates) go out through send_file: the Chinese name as
RFC 5987 ``filename*``, an ASCII fallback, the right type, and no-store."""

from urllib.parse import quote

import pytest

from tests.factories import make_institution, make_province_admin, make_round
from tests.helpers import login
from tests.jobs_queue import start_and_download


def _download(response, name, mimetype):
    assert response.status_code == 200
    assert response.mimetype == mimetype
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; filename=")
    assert header.endswith(f"filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}")
    assert response.headers["Cache-Control"] == "no-store"
    assert int(response.headers["Content-Length"]) == len(response.data) > 0


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_admin_documents(client, app_ctx):
    login(client, make_province_admin())
    _download(client.get("/complaints/admin/stats.xlsx?year=2024"), "2024年企业投诉统计.xlsx", XLSX)
    _download(
        start_and_download(client, "/reports/bulletin/docx", {"year": 2025, "quarter": 1}),
        "2025年第一季度全省中小微企业核心服务机构运营情况通报.docx",
        DOCX,
    )


@pytest.mark.parametrize(
    ("name", "filename", "mimetype"),
    [
        ("outline", "核心服务机构申请报告提纲.docx", DOCX),
        ("staff", "服务机构服务人员基本情况表.xlsx", XLSX),
    ],
)
def test_application_templates(client, app_ctx, name, filename, mimetype):
    make_round("application", year=2026)
    institution = make_institution()
    login(client, institution)
    response = client.post("/applications/new")
    assert response.status_code == 303
    filing_id = int(response.headers["Location"].split("/")[2])
    _download(client.get(f"/applications/{filing_id}/templates/{name}"), filename, mimetype)
