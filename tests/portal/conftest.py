"""Portal test data: notices written straight to the database (tests run inside ``app_ctx``)."""

from datetime import timedelta

import pytest

from app.blueprints.portal.models import Notice
from app.extensions import db
from app.utils import utcnow


def add_notice(title, *, category="通知公告", body="正文", days_ago=1, published=True, pinned=False):
    notice = Notice(
        title=title,
        category=category,
        body=body,
        is_published=published,
        pinned=pinned,
        published_at=utcnow() - timedelta(days=days_ago),
    )
    db.session.add(notice)
    db.session.commit()
    return notice


@pytest.fixture
def notices(app_ctx):
    """Two public notices, one 工作动态, one unpublished and one scheduled for tomorrow."""
    return {
        "pinned": add_notice("关于公布湖南省中小微企业核心服务机构（2023-2026）名单的通知", days_ago=30, pinned=True),
        "report": add_notice("2023年全省中小微企业核心服务机构运营情况通报", days_ago=3),
        "news": add_notice("全省中小企业数字化转型城市试点工作推进会召开", category="工作动态", days_ago=2),
        "draft": add_notice("草稿：尚未发布的核心服务通知", published=False),
        "future": add_notice("定时发布：明天的核心服务通知", days_ago=-1),
    }


def recognise(user, *, start=None, end=None, revoked=False):
    """A direct recognition (application_id None) of the institution behind ``user``; by default
    a term in force this year (this year - 1 to this year + 2)."""
    from app.blueprints.applications.models import Recognition
    from app.utils import local_today

    year = local_today().year
    start = year - 1 if start is None else start
    recognition = Recognition(
        institution_id=user.institution.id,
        term_start=start,
        term_end=start + 3 if end is None else end,
        revoked_at=utcnow() if revoked else None,
    )
    db.session.add(recognition)
    db.session.commit()
    return recognition


def offer(user, *names):
    """Set the 服务类别 the institution offers."""
    import sqlalchemy as sa

    from app.reference.models import ServiceCategory

    user.institution.service_categories = db.session.scalars(
        sa.select(ServiceCategory).where(ServiceCategory.name.in_(names))
    ).all()
    db.session.commit()
