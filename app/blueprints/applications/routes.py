"""核心服务机构申报: the engine's views plus 模版下载."""

from io import BytesIO

from flask import abort, send_file, url_for
from flask_login import current_user

from app.access import roles
from app.blueprints.admin.services import HomeCount
from app.blueprints.applications import bp
from app.blueprints.applications.services import TEMPLATE_FILES
from app.blueprints.applications.wizard import wizard
from app.filings.services import owned_filing_or_404, waiting_select
from app.filings.views import register_views

register_views(bp, wizard)

MIMETYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.route("/<int:filing_id>/templates/<name>")
@roles("institution")
def download_template(filing_id, name):
    """模版下载: a .docx or .xlsx with the institution's name filled in; 404 for unknown names."""
    application = owned_filing_or_404(wizard, filing_id, current_user)
    if name not in TEMPLATE_FILES:
        abort(404)
    filename, build = TEMPLATE_FILES[name]
    extension = filename[filename.rindex(".") :]
    return send_file(
        BytesIO(build(application)), mimetype=MIMETYPES[extension], as_attachment=True, download_name=filename
    )


def waiting_applications(user):
    """Admin home tile: applications waiting for this admin's decision."""
    count = waiting_select(wizard=wizard, user=user)
    return [HomeCount("待审核核心服务机构申报", count, url_for("applications.review_applications"), "件")]
