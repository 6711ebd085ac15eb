"""Light first loads without a proxy: compressed responses, fingerprinted static files cached a year."""

import gzip
import shutil
from pathlib import Path

import brotli
import pytest
from flask_static_digest.digester import compile as digest_compile

from app.extensions import static_digest
from app.static_files import drop_stale_manifest

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def test_pages_are_compressed_with_brotli_or_gzip(client):
    plain = client.get("/")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    html = plain.get_data()
    br = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.get_data()) == html
    gz = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.get_data()) == html
    assert len(br.get_data()) < len(html) / 2


def test_a_first_visit_to_the_home_page_stays_under_60_kb(client):
    """The page and everything it links (CSS, htmx, app.js), as a browser asks for them."""
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    page = client.get("/", headers=headers)
    total = len(page.get_data())
    for name in ("app.css", "htmx.min.js", "app.js"):
        response = client.get(f"/static/{name}", headers=headers)
        assert response.status_code == 200
        total += len(response.get_data())
        response.close()
    assert total <= 60 * 1024, total


@pytest.fixture
def digested(app, tmp_path, monkeypatch):
    """A copy of app/static compiled by `flask digest compile`, served in place of the real one."""
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder, ignore=shutil.ignore_patterns("*-*[0-9a-f]*.*", "cache_manifest.json"))
    digest_compile(str(folder), str(folder), [], False, False)
    monkeypatch.setattr(app, "static_folder", str(folder))
    monkeypatch.setattr(static_digest, "manifests", {})
    static_digest._load_manifest("static", app)
    return folder


def test_fingerprinted_names_are_linked_and_cached_for_a_year(client, digested):
    html = client.get("/").get_data(as_text=True)
    css = next(p.name for p in digested.glob("app-*.css"))
    assert f"/static/{css}" in html and 'href="/static/app.css"' not in html
    response = client.get(f"/static/{css}")
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache_control and "immutable" in cache_control and "public" in cache_control
    assert "no-cache" not in cache_control
    response.close()
    plain = client.get("/static/app.css")
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")
    plain.close()


def test_a_file_changed_after_compiling_is_served_under_its_plain_name(app, client, digested):
    (digested / "app.css").write_text("body { color: red }\n")
    drop_stale_manifest(app)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/static/app.css"' in html
