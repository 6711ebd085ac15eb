"""Request hooks, security headers, error pages, template filters and globals."""

from flask import render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from app import utils
from app.access import PUBLIC, enforce_access, policy_of
from app.errors import NotFound
from app.extensions import db
from app.inbox import unread_count
from app.inputs import refuse_nul
from app.menus import layout_url, page_url, side_menu
from app.saved_forms import signed_out_post
from app.widgets import field_macro

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

ERROR_PAGES = {
    400: ("请求无效", "提交的内容无法识别，请返回后重试。"),
    403: ("无权访问", "您的帐户没有访问此页面的权限。如需帮助，请联系管理员。"),
    404: ("页面不存在", "您访问的页面不存在或已被删除。"),
    405: ("请求方式不正确", "请通过页面上的按钮操作。"),
    413: ("文件过大", "上传的文件过大：单个文件不超过 50MB，一次上传的文件合计不超过 200MB。请压缩后或分几次上传。"),
    429: ("操作过于频繁", "您的操作过于频繁，请稍后再试。"),
    500: ("系统繁忙", "服务器出现错误，请稍后再试。问题持续请拨打技术电话 0731-89706287。"),
}


def compile_templates(app):
    """Compile every template now into Jinja's cache; returns how many. gunicorn calls it in the
    master when the app is preloaded (deploy/gunicorn.conf.py ``when_ready``), so each forked
    worker starts with them compiled and shares their memory with the others, instead of compiling
    each one again at its first use after every fork: 140 templates take about 0.7 s here, and a
    worker is replaced every 2,000 or so requests."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    if env.cache is not None and env.cache.capacity < len(names):
        raise RuntimeError(f"Jinja's cache keeps {env.cache.capacity} templates, fewer than the {len(names)} here")
    for name in names:
        env.get_template(name)
    return len(names)


def register_web(app):
    app.before_request(refuse_nul)  # NUL in the query, form, file names or path: 400
    app.before_request(enforce_access)
    register_menu(app)

    hsts = None
    if app.config["APP_ENV"] == "production" and app.config["HSTS_MAX_AGE"]:
        hsts = f"max-age={app.config['HSTS_MAX_AGE']}"
        if app.config["HSTS_INCLUDE_SUBDOMAINS"]:
            hsts += "; includeSubDomains"

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        if request.endpoint != "static":
            if current_user.is_authenticated or "Content-Disposition" in response.headers:
                # Whatever a signed-in user receives and every download (send_file says only
                # no-cache on its own) stays out of every cache, the browser's disk included.
                response.headers["Cache-Control"] = "no-store"
            elif "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "no-cache"
        return response

    def error_page(error):
        code = getattr(error, "code", 500) or 500
        title, text = ERROR_PAGES.get(code, ERROR_PAGES[500])
        # a domain error may say more than its code's page (e.g. 附件文件缺失)
        title, text = getattr(error, "title", title), getattr(error, "text", text)
        if code == 500:
            db.session.rollback()
        return render_template("error.html", code=code, title=title, text=text), code

    for code in ERROR_PAGES:
        app.register_error_handler(code, error_page)
    app.register_error_handler(NotFound, error_page)  # a service's domain error: the 404 page

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # after 退出 (here or in another tab) the token went with the session: what was typed is
        # kept for after the login rather than lost on a bare 页面已过期 page
        if not current_user.is_authenticated and policy_of(request.endpoint) not in (None, PUBLIC):
            return signed_out_post()
        return render_template(
            "error.html", code=400, title="页面已过期", text="页面已过期或表单令牌无效，请刷新页面后重新提交。"
        ), 400

    app.jinja_env.filters["date"] = utils.format_date
    app.jinja_env.filters["datetime"] = utils.format_datetime
    app.jinja_env.filters["month_day"] = utils.format_month_day
    app.jinja_env.filters["wan"] = utils.format_wan
    app.jinja_env.globals["field_macro"] = field_macro  # makes _macros/forms.html's ``field``
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def layout_context():
        user = current_user._get_current_object()
        unread = unread_count(user) if user.is_authenticated else 0
        return {
            # the user itself rather than Flask-Login's proxy, which looks the user up again at each
            # of the dozens of uses in a page (this processor runs after Flask-Login's)
            "current_user": user,
            "unread_messages": unread,
            "tech_phone": app.config["CENTRE_TECH_PHONE"],
            "consult_phone": app.config["CENTRE_CONSULT_PHONE"],
        }


def register_menu(app):
    app.jinja_env.globals["side_menu"] = side_menu
    app.jinja_env.globals["layout_url"] = layout_url
    app.jinja_env.globals["url_for"] = page_url  # Flask's url_for, quicker for a row's links
