"""通知公告管理: province admins write, edit, pin, schedule, unpublish and delete notices; and who may
read a notice before it is public (only they: anyone else, a city admin included, gets a 404).

Every action is audited. Attachments go through the filings' upload rules
(app/filings/attachments.attachment_store) and belong to the notice by Attachment.notice_id.
"""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import audit
from app.blueprints.portal.matching import contains, like_pattern
from app.blueprints.portal.models import NOTICE_CATEGORIES, Notice
from app.extensions import db
from app.filings.attachments import AttachmentError, attachment_remove_file, attachment_store
from app.filings.models import Attachment
from app.utils import format_datetime, paginate, utcnow

FIELDS = ("title", "category", "is_published", "published_at", "pinned")
# who manages notices, and so may read a draft or a scheduled notice before it is public
MANAGER_ROLES = ("province_admin",)


class NoticeError(ValueError):
    """A refusal for the user; ``field`` names the form field it belongs to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


# ---- reading a notice on the portal ------------------------------------------------------------


def notice_manager(user):
    """Whether ``user`` manages notices: only they see drafts and scheduled notices (marked as
    such). Every other reader, a city admin included, gets the same 404 as a visitor."""
    return bool(user is not None and user.is_authenticated and user.role in MANAGER_ROLES)


def notice_for_reader(*, notice_id, user=None):
    """The notice if ``user`` may read it (public, or a draft or scheduled one for a manager), else None."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or not (notice.is_public or notice_manager(user)):
        return None
    return notice


def notice_attachment_for_reader(*, notice_id, attachment_id, user=None):
    """An attachment of a notice ``user`` may read, else None."""
    notice = notice_for_reader(notice_id=notice_id, user=user)
    return notice_attachment_get(notice=notice, attachment_id=attachment_id) if notice is not None else None


# ---- 通知公告管理 ------------------------------------------------------------------------------


def notice_admin_list(*, category=None, status=None, q=None, page=1, per_page=20):
    """Every notice for the 通知公告管理 list, newest first, with its attachments loaded."""
    now = utcnow()
    select = sa.select(Notice).options(selectinload(Notice.attachments))
    if category in NOTICE_CATEGORIES:
        select = select.where(Notice.category == category)
    if status == "public":
        select = select.where(Notice.is_published.is_(True), Notice.published_at <= now)
    elif status == "scheduled":
        select = select.where(Notice.is_published.is_(True), Notice.published_at > now)
    elif status == "draft":
        select = select.where(Notice.is_published.is_(False))
    if q:
        select = select.where(contains(Notice.title, like_pattern(q)))
    return paginate(select.order_by(Notice.published_at.desc(), Notice.id.desc()), page=page, per_page=per_page)


def notice_admin_get(*, notice_id):
    return db.session.get(Notice, notice_id)


def _snapshot(notice):
    return {
        "title": notice.title,
        "category": notice.category,
        "is_published": notice.is_published,
        "published_at": format_datetime(notice.published_at) if notice.published_at else "",
        "pinned": notice.pinned,
    }


def _unpin_others(notice):
    """Only one headline: pinning a notice takes the pin off the others (returns their titles)."""
    others = db.session.scalars(sa.select(Notice).where(Notice.pinned.is_(True), Notice.id != notice.id)).all()
    for other in others:
        other.pinned = False
    return [other.title for other in others]


def _store_files(notice, files, actor):
    """Store the uploaded files as the notice's attachments; all or none (AttachmentError)."""
    stored = []
    try:
        for file_storage in files:
            attachment = attachment_store(file_storage, user=actor)
            attachment.notice_id = notice.id
            stored.append(attachment)
    except AttachmentError:
        for attachment in stored:
            attachment_remove_file(attachment)
        raise
    return stored


def notice_save(*, notice=None, title, category, body, publish, publish_at=None, pinned, files=(), actor):
    """Create (``notice`` None) or update a notice with its new attachments. ``publish``: "now"
    (an already public notice keeps its date), "at" (``publish_at``, naive UTC: later is a
    schedule, earlier back-dates an old notice) or "draft". Nothing is saved when a file is
    refused (NoticeError on "files"). Commits; returns the notice."""
    files = [f for f in files if f and f.filename]
    creating = notice is None
    before = None if creating else _snapshot(notice)
    if creating:
        notice = Notice(author_id=actor.id)
        db.session.add(notice)
    was_public = not creating and notice.is_public
    notice.title, notice.category, notice.body = title, category, body or ""
    if publish == "draft":
        notice.is_published = False
    elif publish == "at":
        notice.is_published, notice.published_at = True, publish_at
    else:
        notice.is_published = True
        if not was_public:
            notice.published_at = utcnow()
    notice.pinned = bool(pinned)
    db.session.flush()  # a new notice needs its id before the others lose their pin
    unpinned = _unpin_others(notice) if notice.pinned else []
    try:
        stored = _store_files(notice, files, actor)
    except AttachmentError as error:
        db.session.rollback()
        raise NoticeError(f"{error} 通知未保存，请重新选择附件后再提交。", "files") from error
    summary = f"{'新建' if creating else '修改'}通知公告：{notice.title}（{notice.status_label}）"
    if stored:
        summary += f"，上传附件 {len(stored)} 个：" + "、".join(a.original_name for a in stored)
    if unpinned:
        summary += "；取消原头条：" + "、".join(unpinned)
    audit(
        "notice.create" if creating else "notice.update",
        summary=summary,
        target=notice,
        before=before,
        after=_snapshot(notice),
        actor=actor,
    )
    _commit_or_remove(stored)
    return notice


def _commit_or_remove(stored):
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        for attachment in stored:
            attachment_remove_file(attachment)
        raise


def notice_pin(*, notice, pinned, actor):
    """Make the notice the 首页 headline (taking the pin off any other), or take its pin off."""
    before = _snapshot(notice)
    notice.pinned = bool(pinned)
    unpinned = _unpin_others(notice) if pinned else []
    summary = f"{'设为首页头条' if pinned else '取消首页头条'}：{notice.title}"
    if unpinned:
        summary += "；取消原头条：" + "、".join(unpinned)
    audit(
        "notice.pin" if pinned else "notice.unpin",
        summary=summary,
        target=notice,
        before=before,
        after=_snapshot(notice),
        actor=actor,
    )
    db.session.commit()


def notice_publish(*, notice, actor):
    """立即发布 an unpublished or scheduled notice: it becomes public now."""
    if notice.is_public:
        raise NoticeError("该通知已发布。")
    before = _snapshot(notice)
    notice.is_published, notice.published_at = True, utcnow()
    audit(
        "notice.publish",
        summary=f"发布通知公告：{notice.title}",
        target=notice,
        before=before,
        after=_snapshot(notice),
        actor=actor,
    )
    db.session.commit()


def notice_unpublish(*, notice, actor):
    """撤回 a published or scheduled notice: visitors get a 404 from now on (it stays editable)."""
    if not notice.is_published:
        raise NoticeError("该通知尚未发布。")
    before = _snapshot(notice)
    notice.is_published = False
    audit(
        "notice.unpublish",
        summary=f"撤回通知公告：{notice.title}",
        target=notice,
        before=before,
        after=_snapshot(notice),
        actor=actor,
    )
    db.session.commit()


def notice_delete(*, notice, actor):
    """Delete a notice with its attachments (their files go after the commit)."""
    stored = list(notice.attachments)
    audit(
        "notice.delete",
        summary=f"删除通知公告：{notice.title}" + (f"（含附件 {len(stored)} 个）" if stored else ""),
        target=notice,
        before=_snapshot(notice),
        actor=actor,
    )
    db.session.delete(notice)
    db.session.commit()
    for attachment in stored:
        attachment_remove_file(attachment)


def notice_attachment_get(*, notice, attachment_id):
    return db.session.scalar(
        sa.select(Attachment).where(Attachment.id == attachment_id, Attachment.notice_id == notice.id)
    )


def notice_attachment_delete(*, notice, attachment, actor):
    audit(
        "notice.attachment_delete",
        summary=f"删除通知公告附件：{attachment.original_name}（{notice.title}）",
        target=notice,
        before={"attachment": attachment.original_name},
        actor=actor,
    )
    notice.attachments.remove(attachment)
    db.session.commit()
    attachment_remove_file(attachment)
