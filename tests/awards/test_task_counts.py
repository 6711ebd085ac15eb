"""尚未评分的评审任务 (issue 14, item 3): one definition (services.task_waiting) for 管理首页, 评审排名,
the reminders and the check before 入选 / 未入选, checked against a count written in plain SQL, and
agreeing with what each reviewer's 我的评审任务 shows."""

from datetime import timedelta

import sqlalchemy as sa

from app.blueprints.awards.models import AwardPublication, Score, ScoringCriterion
from app.extensions import db
from app.filings.models import Filing
from app.inbox import Message
from app.utils import local_today
from tests.awards.conftest import _who, expert_at, make_nomination
from tests.awards.test_conflict_employers import _assign, _change_employer
from tests.awards.test_judging import assignment_id, logout, score
from tests.factories import make_round
from tests.helpers import login, page, text_of

# written from the rule, not from the code: a task still to be scored is assigned, not submitted,
# not flagged for a conflict of interest, on a nomination past 资格审查 whose round's 公示 has not opened
INDEPENDENT = sa.text(
    """
    SELECT count(*) FROM award_assignment a JOIN filing f ON f.id = a.filing_id
    WHERE a.submitted_at IS NULL AND a.conflict IS NULL AND f.status = 'city_approved'
      AND f.kind IN ('institution_nomination', 'product_nomination', 'expert_nomination')
      AND f.round_id NOT IN (SELECT round_id FROM award_publication)
    """
)
CONFLICTS = sa.text(
    """
    SELECT count(*) FROM award_assignment a JOIN filing f ON f.id = a.filing_id
    WHERE a.submitted_at IS NULL AND a.conflict IS NOT NULL AND f.status = 'city_approved'
      AND f.round_id NOT IN (SELECT round_id FROM award_publication)
    """
)


def tiles(client):
    soup = page(client.get("/admin/"))
    found = {}
    for tile in soup.select("a.stat"):
        value = tile.find("b").get_text(" ", strip=True).split()[0]
        found[tile.get_text(" ", strip=True).split(" ", 2)[-1]] = int(value)
    return found


def test_the_home_count_is_every_task_still_to_be_scored_and_nothing_else(client, app, people):
    with app.app_context():
        done, halfway, insider, other = (
            _who(expert_at(f"{n}大学", reviewer=True, name=f"评审{n}")) for n in ("甲", "乙", "丙", "丁")
        )
        scored = make_nomination("institution", people.institution.id, people.round_id)
        product = make_nomination("product", people.other_institution.id, people.round_id, product_name="融资包")
        returned = make_nomination("expert", people.other_institution.id, people.round_id, name="退回专家")
        # an older round whose 公示 is open: its tasks can no longer be scored
        old_round = make_round("award", year=2025, title="2025年度优秀评选")
        old = make_nomination("institution", people.other_institution.id, old_round.id)
        old_round_id = old_round.id
    for filing_id, reviewer in (
        (scored, done),
        (scored, halfway),
        (product, insider),
        (product, other),
        (returned, other),
        (old, other),
    ):
        assert _assign(client, people, filing_id, reviewer.id).status_code == 303
    login(client, done.username)
    score(client, app, assignment_id(app, scored, done.id), [90, 80, 70, 60], people.round_id)
    logout(client)
    halfway_task = assignment_id(app, scored, halfway.id)
    with app.app_context():
        # 评审乙 is half way: scores on some criteria stored, never submitted (as a crash or an old
        # partial save would leave them): still a task to score
        criterion = db.session.scalar(
            sa.select(ScoringCriterion.id).where(
                ScoringCriterion.round_id == people.round_id, ScoringCriterion.kind == "institution_nomination"
            )
        )
        db.session.add(Score(assignment_id=halfway_task, criterion_id=criterion, score=50))
        # the expert nomination was sent back for correction: not being judged now
        db.session.execute(sa.update(Filing).where(Filing.id == returned).values(status="returned"))
        today = local_today()
        db.session.add(
            AwardPublication(round_id=old_round_id, publicity_starts=today, publicity_ends=today + timedelta(days=6))
        )
        db.session.commit()
    # 评审丙 moves to the institution that nominated the product: its open task is flagged (conflicts.py)
    _change_employer(client, app, insider, "株洲创新服务公司")

    with app.app_context():
        independent = db.session.scalar(INDEPENDENT)
        conflicted = db.session.scalar(CONFLICTS)
    assert (independent, conflicted) == (2, 1)  # 评审乙 on the institution, 评审丁 on the product
    login(client, people.province.username)
    found = tiles(client)
    assert found["尚未评分的评审任务"] == independent
    assert found["存在利益冲突待撤销的评审分配"] == conflicted
    # 评审排名 says the same per kind
    text = text_of(page(client.get(f"/awards/admin/institutions/ranking?round_id={people.round_id}")))
    assert "尚未评分的评审任务：1 项" in text
    text = text_of(page(client.get(f"/awards/admin/products/ranking?round_id={people.round_id}")))
    assert "尚未评分的评审任务：1 项" in text
    # reminders reach the reviewers who can score, not the one who may no longer open its task
    client.post(f"/awards/admin/products/remind?round_id={people.round_id}")
    with app.app_context():
        reminded = db.session.scalars(sa.select(Message.user_id).where(Message.title.like("评审提醒%"))).all()
    assert reminded == [other.id]
    logout(client)

    # and each reviewer's 我的评审任务 agrees: what it can score shows as 待评分, nothing else does
    waiting = 0
    for reviewer in (done, halfway, insider, other):
        login(client, reviewer.username)
        waiting += text_of(page(client.get("/awards/reviews/"))).count("待评分")
        logout(client)
    assert waiting == independent
    login(client, other.username)
    text = text_of(page(client.get("/awards/reviews/")))
    assert text.count("评审已结束") == 1  # the older round's task, its 公示 open (the returned one is not listed)


def test_the_count_is_zero_once_every_task_is_scored(client, app, people):
    with app.app_context():
        reviewer = _who(expert_at("甲大学", reviewer=True))
        nomination = make_nomination("institution", people.institution.id, people.round_id)
    _assign(client, people, nomination, reviewer.id)
    login(client, people.province.username)
    assert tiles(client)["尚未评分的评审任务"] == 1
    logout(client)
    login(client, reviewer.username)
    score(client, app, assignment_id(app, nomination, reviewer.id), [60, 60, 60, 60], people.round_id)
    logout(client)
    login(client, people.province.username)
    found = tiles(client)
    assert found["尚未评分的评审任务"] == 0 and "存在利益冲突待撤销的评审分配" not in found
