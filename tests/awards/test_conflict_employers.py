"""Conflicts of interest on every known employer of a 评审专家 (issue 13 item 12): the 工作单位 it
types now, the ones it typed before, the one recorded on each assignment and the admin-verified
ones; a change of 工作单位 re-checks the expert's open assignments and flags a new conflict."""

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import Expert
from app.blueprints.awards.conflicts import known_employers
from app.blueprints.awards.models import ExpertEmployer, ReviewAssignment
from app.extensions import db
from app.inbox import Message
from tests.awards.conftest import _who, expert_at, make_nomination
from tests.awards.test_judging import assignment_id, logout, score
from tests.factories import make_province_admin
from tests.helpers import login, page, text_of


def _profile(user_id, employer):
    """The expert's 基本资料 form as it stands, with ``employer`` typed in."""
    expert = db.session.scalar(sa.select(Expert).where(Expert.user_id == user_id))
    return {
        "name": expert.name,
        "gender": expert.gender,
        "birth_month": expert.birth_month,
        "employer": employer,
        "title": expert.title,
        "category_id": expert.category_id,
        "city_code": expert.city_code,
        "county_code": expert.county_code,
        "bio": expert.bio or "",
    }


def _change_employer(client, app, user, employer):
    with app.app_context():
        data = _profile(user.id, employer)
    login(client, user.username)
    assert client.post("/workspace/profile", data=data).status_code == 303
    logout(client)


def _assign(client, people, filing_id, reviewer_id):
    login(client, people.province.username)
    response = client.post(f"/awards/admin/nominations/{filing_id}/reviewers", data={"reviewer_id": reviewer_id})
    logout(client)
    return response


def _expert_id(user_id):
    return db.session.scalar(sa.select(Expert.id).where(Expert.user_id == user_id))


def test_the_employer_at_assignment_time_is_recorded(client, app, people):
    with app.app_context():
        reviewer = _who(expert_at("湖南大学", reviewer=True))
        by_hand = make_nomination("institution", people.institution.id, people.round_id)
        automatic = make_nomination("product", people.other_institution.id, people.round_id)
    assert _assign(client, people, by_hand, reviewer.id).status_code == 303
    login(client, people.province.username)
    assert (
        client.post(
            f"/awards/admin/products/assignments/auto?round_id={people.round_id}", data={"per_nomination": "1"}
        ).status_code
        == 303
    )
    logout(client)
    with app.app_context():
        rows = db.session.execute(sa.select(ReviewAssignment.filing_id, ReviewAssignment.reviewer_employer)).all()
        assert sorted(rows) == sorted([(by_hand, "湖南大学"), (automatic, "湖南大学")])
    login(client, people.province.username)
    soup = page(client.get(f"/awards/admin/nominations/{by_hand}/reviewers"))
    assert "分配时工作单位" in text_of(soup.select_one("table.list thead"))
    assert "湖南大学" in text_of(soup.select_one("table.list tbody"))


def test_changing_the_employer_away_and_back_does_not_clear_a_conflict(client, app, people):
    """The penetration test's case: an expert at the nominating institution types another 工作单位,
    is assigned, then types the real one back: the conflict holds throughout."""
    with app.app_context():
        insider = _who(expert_at("长沙示范服务中心", reviewer=True, name="内部专家"))
        nomination = make_nomination("institution", people.institution.id, people.round_id)
    _change_employer(client, app, insider, "湖南大学")
    response = _assign(client, people, nomination, insider.id)
    assert response.status_code == 422
    assert "长沙示范服务中心”是评审专家曾填报的工作单位，须回避" in text_of(page(response, status=422))
    login(client, people.province.username)
    assert (
        client.post(
            f"/awards/admin/institutions/assignments/auto?round_id={people.round_id}", data={"per_nomination": "1"}
        ).status_code
        == 303
    )
    logout(client)
    _change_employer(client, app, insider, "长沙示范服务中心")
    _change_employer(client, app, insider, "湖南大学")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id))) == 0
        assert {row.name for row in db.session.scalars(sa.select(ExpertEmployer))} == {"长沙示范服务中心", "湖南大学"}


def test_a_change_that_creates_a_conflict_flags_the_open_assignment(client, app, people):
    with app.app_context():
        mover = _who(expert_at("湖南大学", reviewer=True, name="跳槽专家"))
        other_admin = _who(make_province_admin())
        scored_first = make_nomination("institution", people.institution.id, people.round_id)
        pending = make_nomination("product", people.institution.id, people.round_id)
        unrelated = make_nomination("product", people.other_institution.id, people.round_id)
        admin_ids = {people.province.id, other_admin.id}
    for filing_id in (scored_first, pending, unrelated):
        assert _assign(client, people, filing_id, mover.id).status_code == 303
    login(client, mover.username)
    assert (
        score(client, app, assignment_id(app, scored_first, mover.id), [80, 80, 80, 80], people.round_id).status_code
        == 303
    )
    logout(client)
    # the expert moves to the institution that nominated two of them
    _change_employer(client, app, mover, "长沙示范服务中心")
    with app.app_context():
        flags = dict(db.session.execute(sa.select(ReviewAssignment.filing_id, ReviewAssignment.conflict)).all())
        assert flags[pending] == "申报单位“长沙示范服务中心”是评审专家的工作单位，须回避。"
        assert flags[scored_first] is None and flags[unrelated] is None  # scores already in; no conflict
        [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "award.assignment_conflict")).all()
        assert entry.actor_id == mover.id and "跳槽专家" in entry.summary
        messages = db.session.scalars(sa.select(Message).where(Message.title == "评审分配出现利益冲突：跳槽专家")).all()
        assert {m.user_id for m in messages} == admin_ids
        assert all(m.link == f"/awards/admin/nominations/{pending}/reviewers" for m in messages)
    # the expert can neither open nor score it
    flagged = assignment_id(app, pending, mover.id)
    login(client, mover.username)
    assert client.get(f"/awards/reviews/{flagged}").status_code == 404
    assert score(client, app, flagged, [90, 90, 90, 90], people.round_id, kind="product_nomination").status_code == 404
    logout(client)
    # changing back does not give it back
    _change_employer(client, app, mover, "湖南大学")
    login(client, mover.username)
    assert client.get(f"/awards/reviews/{flagged}").status_code == 404
    assert client.get(f"/awards/reviews/{assignment_id(app, unrelated, mover.id)}").status_code == 200
    logout(client)
    with app.app_context():
        assert db.session.get(ReviewAssignment, flagged).submitted_at is None
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditLog.id)).where(AuditLog.action == "award.assignment_conflict")
            )
            == 1
        )
    # the admin sees the flag and withdraws the assignment
    login(client, people.province.username)
    soup = page(client.get(f"/awards/admin/nominations/{pending}/reviewers"))
    assert "利益冲突" in text_of(soup.select_one("table.list tbody"))
    soup = page(client.get(f"/awards/admin/products/assignments?round_id={people.round_id}"))
    assert "利益冲突" in text_of(soup.select_one("table.list tbody"))
    assert client.post(f"/awards/admin/assignments/{flagged}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(ReviewAssignment, flagged) is None


def test_a_profile_saved_without_a_new_employer_flags_nothing(client, app, people):
    with app.app_context():
        reviewer = _who(expert_at("湖南大学", reviewer=True))
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        data = _profile(reviewer.id, "湖南大学")
        data["title"] = "研究员"
    _assign(client, people, nomination, reviewer.id)
    login(client, reviewer.username)
    assert client.post("/workspace/profile", data=data).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ExpertEmployer.id))) == 0
        assert db.session.scalar(sa.select(ReviewAssignment.conflict)) is None
        assert not db.session.scalar(sa.select(Message.id).where(Message.title.startswith("评审分配出现利益冲突")))


def test_the_province_admin_verifies_an_employer(client, app, people):
    with app.app_context():
        hidden = _who(expert_at("湖南大学", reviewer=True, name="隐瞒专家"))  # really works for 长沙示范服务中心
        already = make_nomination("institution", people.institution.id, people.round_id)
        later = make_nomination("product", people.institution.id, people.round_id)
        expert_id = _expert_id(hidden.id)
    assert _assign(client, people, already, hidden.id).status_code == 303
    login(client, people.province.username)
    soup = page(client.get("/awards/admin/reviewers"))
    assert "未核实" in text_of(soup) and soup.find("a", href=f"/awards/admin/reviewers/{expert_id}/employer")
    soup = page(client.get(f"/awards/admin/reviewers/{expert_id}/employer"))
    assert soup.find("input", attrs={"name": "employer"})["value"] == "湖南大学"
    soup = page(client.post(f"/awards/admin/reviewers/{expert_id}/employer", data={"employer": ""}), status=422)
    assert "请输入核实的工作单位" in text_of(soup.select_one(".error-summary"))
    response = client.post(
        f"/awards/admin/reviewers/{expert_id}/employer", data={"employer": "长沙示范服务中心"}, follow_redirects=True
    )
    text = text_of(page(response))
    assert "已核实隐瞒专家的工作单位：长沙示范服务中心" in text and "1 项尚未评分的评审任务因此存在利益冲突" in text
    assert "经核实的工作单位" in text
    with app.app_context():
        assert (
            db.session.scalar(sa.select(ReviewAssignment.conflict))
            == "申报单位“长沙示范服务中心”是评审专家经核实的工作单位，须回避。"
        )
        assert db.session.scalar(sa.select(AuditLog.id).where(AuditLog.action == "award.employer_verify"))
        assert db.session.scalar(sa.select(AuditLog.id).where(AuditLog.action == "award.assignment_conflict"))
    soup = page(client.get("/awards/admin/reviewers"))
    assert "已核实 长沙示范服务中心" in text_of(soup)
    # a new assignment is refused with the reason, and the expert cannot open the flagged one
    soup = page(
        client.post(f"/awards/admin/nominations/{later}/reviewers", data={"reviewer_id": hidden.id}), status=422
    )
    assert "是评审专家经核实的工作单位，须回避" in text_of(soup)
    soup = page(client.get(f"/awards/admin/nominations/{later}/reviewers"))
    assert "隐瞒专家（湖南大学）：申报单位“长沙示范服务中心”是评审专家经核实的工作单位" in text_of(
        soup.select_one("ul.excluded")
    )
    logout(client)
    login(client, hidden.username)
    assert client.get(f"/awards/reviews/{assignment_id(app, already, hidden.id)}").status_code == 404
    assert client.get(f"/awards/admin/reviewers/{expert_id}/employer").status_code == 403


def test_known_employers_is_one_query_for_many_reviewers(app, people):
    from sqlalchemy import event

    with app.app_context():
        ids = [expert_at(unit, reviewer=True).id for unit in ("甲大学", "乙（长沙）研究院", "丙公司")]
        statements = []

        def listener(_conn, _cursor, statement, *_rest):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            known = known_employers(ids)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len([s for s in statements if s.startswith("SELECT")]) == 1
        assert known[ids[1]] == {"乙(长沙)研究院": "的工作单位"}
