"""Static files with fingerprinted names, and compressed responses.

``flask digest compile`` (Flask-Static-Digest; run by ``make run`` and at deploy) writes a copy of
each file in app/static under a name carrying its MD5 (``app-<md5>.css``) and a manifest;
templates link through ``static_url_for``, so a changed file gets a new URL and an unchanged one
may be kept by the browser for a year without asking. Without the manifest the plain names are
served as before (uncached). Flask-Compress gzips or brotli-compresses HTML, CSS, JS and JSON
responses, so the first visit is light without a proxy in front (nginx may compress too).
"""

import hashlib
import logging
import re
from pathlib import Path

from flask import request

from app.extensions import compress, static_digest

log = logging.getLogger("app.static")
FINGERPRINTED = re.compile(r"-[a-f\d]{32}\.\w+$")
A_YEAR = 365 * 24 * 3600


COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "text/plain",
]


def init_static(app):
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])  # brotli where the browser takes it
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # fast enough per request; most of brotli's gain
    app.config.setdefault("FLASK_STATIC_DIGEST_COMPRESSION", [])  # compressed on the fly instead
    static_digest.init_app(app)
    drop_stale_manifest(app)
    compress.init_app(app)

    @app.after_request
    def cache_fingerprinted(response):
        if request.endpoint == "static" and FINGERPRINTED.search(request.path) and response.status_code in (200, 304):
            response.cache_control.no_cache = None  # send_file's default: revalidate every time
            response.cache_control.public = True
            response.cache_control.max_age = A_YEAR
            response.cache_control.immutable = True
            response.expires = None
        return response


def drop_stale_manifest(app):
    """Forget the manifest when a file changed since ``flask digest compile`` (or its copy is
    gone): the plain, current names are served rather than an old copy under a fresh-looking name."""
    manifest = static_digest.manifests.get("static") or {}
    folder = Path(app.static_folder)
    for source, digested in manifest.items():
        try:
            current = hashlib.md5((folder / source).read_bytes()).hexdigest()
            fresh = (folder / digested).is_file() and current in digested
        except OSError:
            fresh = False
        if not fresh:
            log.warning("static file %s changed since `flask digest compile`; serving plain names", source)
            static_digest.manifests.pop("static", None)
            return
