"""站内消息: newest first, unread in bold, opening marks read, only the owner's."""

from datetime import timedelta

from app.extensions import db
from app.inbox import Message, notify
from app.utils import utcnow
from tests.account.conftest import fresh, signed_in
from tests.factories import make_enterprise, make_institution
from tests.helpers import page, text_of


def test_list_newest_first_unread_bold(client, app_ctx):
    user = make_institution()
    old = notify(user, "较早的消息")
    old.created_at = utcnow() - timedelta(days=2)
    new = notify(user, "最新的消息")
    read = notify(user, "已读的消息")
    read.created_at = utcnow() - timedelta(days=5)
    read.read_at = utcnow()
    notify(make_enterprise(), "别人的消息")
    db.session.commit()
    soup = page(signed_in(client, user).get("/workspace/messages"))
    titles = [a.get_text() for a in soup.select("table.list tbody td a")]
    assert titles == ["最新的消息", "较早的消息", "已读的消息"]
    unread = [row.a.get_text() for row in soup.select("table.list tbody tr.unread")]
    assert unread == ["最新的消息", "较早的消息"]
    assert "当前显示第 1 页 共 3 条记录" in text_of(soup)
    assert new.id


def test_pager(client, app_ctx):
    user = make_institution()
    for n in range(23):
        notify(user, f"消息{n}")
    db.session.commit()
    signed_in(client, user)
    soup = page(client.get("/workspace/messages?page=2"))
    assert "当前显示第 2 页 共 23 条记录" in text_of(soup)
    assert len(soup.select("table.list tbody tr")) == 3


def test_opening_marks_read(client, app_ctx):
    user = make_institution()
    message = notify(user, "审核结果", body="您的申报已通过初审。\n请关注后续通知。", link="/workspace/profile")
    db.session.commit()
    soup = page(signed_in(client, user).get(f"/workspace/messages/{message.id}"))
    assert soup.h1.get_text() == "审核结果"
    assert "您的申报已通过初审。" in text_of(soup)
    assert soup.find("a", string="前往查看")["href"] == "/workspace/profile"
    assert fresh(Message, message.id).read_at is not None
    assert soup.select_one(".userbar .badge") is None


def test_outside_links_are_not_offered(client, app_ctx):
    user = make_institution()
    message = notify(user, "外部链接", link="https://evil.example.com/")
    db.session.commit()
    soup = page(signed_in(client, user).get(f"/workspace/messages/{message.id}"))
    assert soup.find("a", string="前往查看") is None


def test_another_users_message_is_404(client, app_ctx):
    owner = make_institution()
    message = notify(owner, "别人的消息")
    db.session.commit()
    page(signed_in(client, make_enterprise()).get(f"/workspace/messages/{message.id}"), status=404)
    assert fresh(Message, message.id).read_at is None
    page(client.get("/workspace/messages/999999"), status=404)


def test_read_all(client, app_ctx):
    user = make_institution()
    other = make_enterprise()
    for n in range(3):
        notify(user, f"消息{n}")
    theirs = notify(other, "别人的消息")
    db.session.commit()
    signed_in(client, user)
    soup = page(client.get("/workspace/messages"))
    assert soup.find("form", action="/workspace/messages/read-all") is not None
    response = client.post("/workspace/messages/read-all")
    assert response.status_code == 303
    soup = page(client.get(response.headers["Location"]))
    assert "已将 3 条消息标为已读" in text_of(soup)
    assert soup.select("table.list tbody tr.unread") == []
    assert soup.find("form", action="/workspace/messages/read-all") is None
    assert fresh(Message, theirs.id).read_at is None


def test_empty_list(client, app_ctx):
    soup = page(signed_in(client, make_institution()).get("/workspace/messages"))
    assert "暂无站内消息" in text_of(soup)


def test_the_header_count_is_read_again_only_after_a_commit_that_wrote_messages(app, app_ctx):
    """The loader's count stays for the request until a commit writes messages (one sent here):
    then it is counted again; a commit of anything else keeps it, and reads neither it nor the
    user the commit expired."""
    import sqlalchemy as sa

    from app.inbox import remember_unread, unread_count

    user = make_institution()
    notify(user, "第一条")
    db.session.commit()
    with app.test_request_context():
        remember_unread(user.id, 1)
        user.display_name = user.display_name + "（改）"
        db.session.commit()  # no message written
        statements = []

        def seen(_conn, _cursor, statement, *_rest):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert unread_count(user) == 1 and statements == []
            notify(user, "第二条")
            db.session.commit()
            assert unread_count(user) == 2
            db.session.execute(sa.update(Message).where(Message.user_id == user.id).values(read_at=utcnow()))
            db.session.commit()
            assert unread_count(user) == 0
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", seen)
