"""Cache-Control: downloads and everything a signed-in user gets are no-store (send_file alone
would say no-cache); anonymous pages stay no-cache; static files keep their long cache."""

from tests.factories import make_institution
from tests.helpers import login


def test_a_signed_in_download_is_no_store(client, app_ctx):
    login(client, make_institution())
    response = client.get("/help/manual.docx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"


def test_an_anonymous_download_is_no_store_too(client):
    response = client.get("/help/manual.docx")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_pages(client, app_ctx):
    assert client.get("/auth/login").headers["Cache-Control"] == "no-cache"
    login(client, make_institution())
    assert client.get("/workspace/").headers["Cache-Control"] == "no-store"
