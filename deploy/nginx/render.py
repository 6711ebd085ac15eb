"""Render deploy/nginx/hnsme.conf for a run outside /etc/nginx (CI's smoke test, tests/test_deploy.py).

    python3 deploy/nginx/render.py --prefix /tmp/x --root . --uploads /tmp/x/uploads \\
        --upstream 127.0.0.1:8001 --http-port 8080 --https-port 8443 --cert c.pem --key k.pem

writes PREFIX/nginx.conf (a whole configuration: pid, logs and temp folders under PREFIX) that
includes PREFIX/hnsme.conf (the site with these paths and ports). Then
``nginx -c PREFIX/nginx.conf -p PREFIX/`` runs it, beside any system nginx: as an ordinary user
(the workers are that user), or as root with the workers as ``--user`` (default www-data, as
Debian's /etc/nginx/nginx.conf has it; never root, so a download needs the uploads' group,
UPLOAD_GROUP). Only the placeholders named at the top of hnsme.conf are replaced, so what runs is
the site file.
"""

import argparse
import os
from pathlib import Path

SITE = Path(__file__).with_name("hnsme.conf")
DEFAULT_USER = "www-data"  # Debian's nginx

MAIN = """\
# rendered by deploy/nginx/render.py
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user}
events {{ worker_connections 256; }}

http {{
    include {mime_types};
    default_type application/octet-stream;
    sendfile on;
    log_format hnsme '$remote_addr [$time_local] "$request" $status $body_bytes_sent rid=$request_id';
    access_log {prefix}/access.log hnsme;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/hnsme.conf;
}}
"""


def render_site(text, *, root, uploads, upstream, http_port, https_port, cert, key, server_name="localhost"):
    replacements = [
        ("/opt/hnsme/app/", f"{Path(root).resolve()}/"),
        ("/var/lib/hnsme/uploads/", f"{Path(uploads).resolve()}/"),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("/etc/ssl/hnsme/fullchain.pem", str(Path(cert).resolve())),
        ("/etc/ssl/hnsme/privkey.pem", str(Path(key).resolve())),
        ("server_name hnsme.example.gov.cn;", f"server_name {server_name};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        # loopback IPv4 only: a CI machine may have no IPv6
        ("listen [::]:80;", ""),
        ("listen [::]:443 ssl http2;", ""),
    ]
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"deploy/nginx/hnsme.conf no longer contains {old!r}: update render.py")
        text = text.replace(old, new)
    return text


def render(prefix, user=None, **site):
    prefix = Path(prefix).resolve()
    for folder in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    (prefix / "hnsme.conf").write_text(render_site(SITE.read_text(), **site))
    # As root nginx switches its workers to the user named here ("nobody" if none): as in production,
    # an unprivileged one that reads the uploads through their group and the checkout's static files.
    user = f"user {user or DEFAULT_USER};" if os.geteuid() == 0 else ""
    if user == "user root;":
        raise SystemExit("nginx's workers must not run as root (deploy/README.md: UPLOAD_GROUP)")
    mime_types = "/etc/nginx/mime.types"
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix, user=user, mime_types=mime_types))
    return prefix / "nginx.conf"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--root", required=True, help="the checkout (holding app/static)")
    parser.add_argument("--uploads", required=True, help="UPLOAD_DIR")
    parser.add_argument("--upstream", default="127.0.0.1:8000")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", help=f"nginx's workers when started as root (default {DEFAULT_USER})")
    args = parser.parse_args()
    print(
        render(
            args.prefix,
            user=args.user,
            root=args.root,
            uploads=args.uploads,
            upstream=args.upstream,
            http_port=args.http_port,
            https_port=args.https_port,
            cert=args.cert,
            key=args.key,
        )
    )


if __name__ == "__main__":
    main()
