"""The portal's background job: 名单导入's 确认导入 (declared in module.py)."""

from app.blueprints.auth.models import User
from app.blueprints.portal import importer
from app.extensions import db
from app.jobs import JobKind, Outcome


def result_lines(result):
    """What the page says after an import: (category, text)."""
    lines = [
        (
            "success",
            f"导入完成：新建帐户并认定 {result.created} 家，已有帐户新增认定 {result.recognised} 家，"
            f"跳过 {result.skipped} 行，不导入 {result.refused} 行。",
        )
    ]
    if result.texted:
        lines.append(("info", f"已向 {result.texted} 个新帐户的手机发送开通短信（帐户名称及设置密码的方法）。"))
    if result.not_texted:
        names = "、".join(f"{name}（{username}）" for name, username in result.not_texted[:20])
        more = f"等 {len(result.not_texted)} 个" if len(result.not_texted) > 20 else ""
        lines.append(
            ("warning", f"以下新帐户的电话不是手机号，无法短信通知：{names}{more}。请在用户管理中为其重置密码并告知。")
        )
    return lines


def import_job(*, job, progress, path):
    """确认导入 as a job: the sheet is planned again against the database as it is now and written in
    one transaction, so a second run finds the sheet gone (or every row already there)."""
    actor = db.session.get(User, job.requester_id)
    if actor is None or actor.role != "province_admin":
        raise importer.SheetError("发起导入的管理员帐户已不存在或已不是省级管理员。")
    result = importer.import_commit(token=job.params["token"], actor=actor, progress=progress)
    if result is None:
        raise importer.SheetError("预览已失效，请重新选择文件。")
    return Outcome(" ".join(text for _category, text in result_lines(result)))


JOBS = (
    JobKind(
        "portal.import", "核心服务机构名单导入", import_job, writes=True, retries=1, user_errors=(importer.SheetError,)
    ),
)
