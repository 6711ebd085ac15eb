"""评审: 评审专家, conflicts of interest, assignment, score blindness, the weighted ranking,
reminders, 入选 / 未入选, 公示 and publication on the portal."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit import AuditLog
from app.blueprints.auth.models import Expert
from app.blueprints.awards.models import AwardResult, ReviewAssignment, ScoringCriterion
from app.extensions import db
from app.filings.models import Filing
from app.inbox import Message
from app.sms import SmsMessage
from app.utils import local_today
from tests.awards.conftest import expert_at, make_nomination
from tests.helpers import login, page, text_of
from tests.jobs_queue import queue_export


def logout(client):
    client.post("/auth/logout")


def criteria_ids(app, round_id, kind="institution_nomination"):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(ScoringCriterion.id)
                .where(ScoringCriterion.round_id == round_id, ScoringCriterion.kind == kind)
                .order_by(ScoringCriterion.position)
            )
        )


def assignment_id(app, filing_id, reviewer_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(ReviewAssignment.id).where(
                ReviewAssignment.filing_id == filing_id, ReviewAssignment.reviewer_id == reviewer_id
            )
        )


def score(client, app, assignment, values, round_id, kind="institution_nomination"):
    ids = criteria_ids(app, round_id, kind)
    data = {f"score_{cid}": str(v) for cid, v in zip(ids, values)}
    data.update({f"comment_{cid}": "" for cid in ids})
    data[f"comment_{ids[0]}"] = "材料翔实"
    return client.post(f"/awards/reviews/{assignment}", data=data)


def test_province_admin_marks_reviewers(client, app, people):
    with app.app_context():
        expert_id = db.session.scalar(sa.select(Expert.id).where(Expert.user_id == people.expert.id))
    login(client, people.province.username)
    soup = page(client.get("/awards/admin/reviewers"))
    assert "设为评审专家" in text_of(soup) and "湘潭大学" in text_of(soup)
    assert client.post(f"/awards/admin/reviewers/{expert_id}", data={"on": "1"}).status_code == 303
    with app.app_context():
        assert db.session.get(Expert, expert_id).is_reviewer is True
        assert db.session.scalar(sa.select(AuditLog.id).where(AuditLog.action == "award.reviewer_set"))
    soup = page(client.get("/awards/admin/reviewers?only=1"))
    assert "取消评审专家" in text_of(soup)
    logout(client)
    login(client, people.city.username)
    assert client.get("/awards/admin/reviewers").status_code == 403


def test_conflicts_are_refused_with_the_reason(client, app, people):
    with app.app_context():
        own_unit = expert_at("长沙示范服务中心", reviewer=True, name="回避甲")  # works at the nominating institution
        fine = expert_at("湖南大学", reviewer=True, name="评审乙")
        institution_nom = make_nomination("institution", people.institution.id, people.round_id)
        same_employer = make_nomination(
            "expert", people.other_institution.id, people.round_id, name="被推荐丙", employer="湖南大学"
        )
        self_nom = make_nomination(
            "expert", fine.id, people.round_id, name="评审乙", employer="湖南大学", nominee_id=fine.id
        )
        nominated_by_other = make_nomination(
            "expert",
            people.other_institution.id,
            people.round_id,
            name="回避甲",
            employer="长沙示范服务中心",
            phone=own_unit.phone,
        )
        own_unit_id, fine_id = own_unit.id, fine.id
    login(client, people.province.username)
    soup = page(
        client.post(f"/awards/admin/nominations/{institution_nom}/reviewers", data={"reviewer_id": own_unit_id}),
        status=422,
    )
    assert "不能分配回避甲：申报单位“长沙示范服务中心”是评审专家的工作单位，须回避。" in text_of(soup)
    soup = page(
        client.post(f"/awards/admin/nominations/{same_employer}/reviewers", data={"reviewer_id": fine_id}), status=422
    )
    assert "被推荐专家的工作单位“湖南大学”与评审专家相同" in text_of(soup)
    soup = page(
        client.post(f"/awards/admin/nominations/{self_nom}/reviewers", data={"reviewer_id": fine_id}), status=422
    )
    assert "本人提交（自荐）" in text_of(soup)
    soup = page(
        client.post(f"/awards/admin/nominations/{nominated_by_other}/reviewers", data={"reviewer_id": own_unit_id}),
        status=422,
    )
    assert "被推荐的专家即评审专家本人" in text_of(soup)
    # the page lists who cannot be assigned and why, before anyone tries
    soup = page(client.get(f"/awards/admin/nominations/{institution_nom}/reviewers"))
    assert "回避甲（长沙示范服务中心）：申报单位“长沙示范服务中心”是评审专家的工作单位" in text_of(
        soup.select_one("ul.excluded")
    )
    assert (
        client.post(f"/awards/admin/nominations/{institution_nom}/reviewers", data={"reviewer_id": fine_id}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReviewAssignment.id))) == 1
        assert db.session.scalar(sa.select(Message.id).where(Message.user_id == fine_id))


def test_auto_assignment_balances_loads_and_avoids_conflicts(client, app, people):
    with app.app_context():
        reviewers = [expert_at(unit, reviewer=True) for unit in ("甲大学", "乙大学", "丙大学")]
        conflicted = expert_at("长沙示范服务中心", reviewer=True)
        noms = [make_nomination("institution", people.institution.id, people.round_id)]
        noms += [make_nomination("product", people.other_institution.id, people.round_id) for _ in range(2)]
        reviewer_ids = [r.id for r in reviewers]
        conflicted_id = conflicted.id
    login(client, people.province.username)
    response = client.post(
        f"/awards/admin/institutions/assignments/auto?round_id={people.round_id}", data={"per_nomination": "2"}
    )
    assert response.status_code == 303
    response = client.post(
        f"/awards/admin/products/assignments/auto?round_id={people.round_id}", data={"per_nomination": "2"}
    )
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.execute(sa.select(ReviewAssignment.filing_id, ReviewAssignment.reviewer_id)).all()
        assert len(rows) == 6
        assert all(reviewer != conflicted_id for filing, reviewer in rows if filing == noms[0])
        loads = {}
        for _, reviewer in rows:
            loads[reviewer] = loads.get(reviewer, 0) + 1
        # six tasks over four reviewers (one cannot take the institution): nobody gets more than two
        assert max(loads.values()) - min(loads.get(r, 0) for r in reviewer_ids + [conflicted_id]) <= 1
    assert len(criteria_ids(app, people.round_id)) == 4  # the default 评分标准 was saved on first use
    # asking for more reviewers than there are shows the shortfall and why
    soup = page(
        client.post(
            f"/awards/admin/institutions/assignments/auto?round_id={people.round_id}",
            data={"per_nomination": "4"},
            follow_redirects=True,
        )
    )
    assert "还差 1 人" in text_of(soup) and "1 位因利益冲突回避" in text_of(soup)


def test_reviewers_see_only_their_assignments_and_score_blind(client, app, people):
    with app.app_context():
        first = expert_at("甲大学", reviewer=True, name="评审甲")
        second = expert_at("乙大学", reviewer=True, name="评审乙")
        bystander = expert_at("丙大学", reviewer=True, name="评审丙")
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        first_id, second_id, bystander_name = first.id, second.id, bystander.username
        first_name, second_name = first.username, second.username
    login(client, people.province.username)
    for reviewer in (first_id, second_id):
        client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer})
    logout(client)
    a1, a2 = assignment_id(app, nomination, first_id), assignment_id(app, nomination, second_id)

    login(client, bystander_name)
    assert "暂无分配给您的评审任务" in text_of(page(client.get("/awards/reviews/")))
    assert client.get(f"/awards/reviews/{a1}").status_code == 404
    logout(client)
    login(client, people.expert.username)  # an expert who is no reviewer
    assert "您尚未被省级管理员设为评审专家" in text_of(page(client.get("/awards/reviews/")))
    assert client.get(f"/awards/reviews/{a1}").status_code == 404
    logout(client)

    login(client, first_name)
    soup = page(client.get("/awards/reviews/"))
    assert "长沙示范服务中心" in text_of(soup) and "待评分" in text_of(soup)
    soup = page(client.get(f"/awards/reviews/{a1}"))
    assert "提交评分" in text_of(soup) and "专家1" not in text_of(soup)
    soup = page(client.post(f"/awards/reviews/{a1}", data={}), status=422)
    assert "请为“服务能力”打分" in text_of(soup)
    soup = page(score(client, app, a1, [101, 80, 70, 60], people.round_id), status=422)
    assert "得分应在 0-100 之间" in text_of(soup)
    assert score(client, app, a1, [90, 80, 70, 60], people.round_id).status_code == 303
    soup = page(client.get(f"/awards/reviews/{a1}"))
    text = text_of(soup)
    # 90*.3 + 80*.3 + 70*.2 + 60*.2 = 27 + 24 + 14 + 12 = 77
    assert "总分 77.00 分" in text and "其他评审专家尚未提交评分" in text
    assert score(client, app, a1, [10, 10, 10, 10], people.round_id).status_code == 422  # no second go
    logout(client)

    login(client, second_name)
    soup = page(client.get(f"/awards/reviews/{a2}"))
    assert "专家1" not in text_of(soup) and "77.00" not in text_of(soup)  # blind until its own scores are in
    assert score(client, app, a2, [70, 60, 50, 40], people.round_id).status_code == 303
    soup = page(client.get(f"/awards/reviews/{a2}"))
    text = text_of(soup)
    # 21 + 18 + 10 + 8 = 57; the other reviewer is shown without its name
    assert "总分 57.00 分" in text and "专家1" in text and "77.00" in text and "评审甲" not in text
    logout(client)


def test_ranking_matches_hand_computed_weighted_means(client, app, people):
    with app.app_context():
        reviewers = [expert_at(f"{n}大学", reviewer=True) for n in "甲乙丙"]
        strong = make_nomination("institution", people.institution.id, people.round_id)
        weak = make_nomination("institution", people.other_institution.id, people.round_id)
        names = [r.username for r in reviewers]
        ids = [r.id for r in reviewers]
    login(client, people.province.username)
    # custom criteria: 服务能力 50 分 40%, 服务成效 50 分 40%, 社会评价 10 分 20%
    rows = {
        "rows-0-name": "服务能力",
        "rows-0-max_score": "50",
        "rows-0-weight": "40",
        "rows-1-name": "服务成效",
        "rows-1-max_score": "50",
        "rows-1-weight": "40",
        "rows-2-name": "社会评价",
        "rows-2-max_score": "10",
        "rows-2-weight": "30",
    }
    soup = page(client.post(f"/awards/admin/institutions/criteria?round_id={people.round_id}", data=rows), status=422)
    assert "权重合计须为 100（当前合计 110）" in text_of(soup)
    rows["rows-2-weight"] = "20"
    assert client.post(f"/awards/admin/institutions/criteria?round_id={people.round_id}", data=rows).status_code == 303
    for nomination in (strong, weak):
        for reviewer in ids:
            client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer})
    logout(client)
    cards = {strong: [[45, 40, 9], [50, 45, 10], [40, 35, 8]], weak: [[30, 30, 5], [20, 25, 6]]}
    for nomination, sheets in cards.items():
        for reviewer_id, username, values in zip(ids, names, sheets):
            login(client, username)
            assert (
                score(client, app, assignment_id(app, nomination, reviewer_id), values, people.round_id).status_code
                == 303
            )
            logout(client)
    # strong: 45/50*40+40/50*40+9/10*20 = 36+32+18 = 86; 40+36+20 = 96; 32+28+16 = 76 -> mean 86, spread 20
    # weak:   24+24+10 = 58; 16+20+12 = 48 -> mean 53, spread 10; one reviewer has not scored
    login(client, people.province.username)
    soup = page(client.get(f"/awards/admin/institutions/ranking?round_id={people.round_id}"))
    body = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.select("table.ranking tbody tr")]
    assert [row[:3] + row[4:7] for row in body] == [
        ["1", "长沙示范服务中心", "长沙市 芙蓉区", "86.00", "3 / 3", "20.00"],
        ["2", "株洲创新服务公司", "株洲市 荷塘区", "53.00", "2 / 3", "10.00"],
    ]
    # each reviewer's total beside the mean, in assignment order (the admin sees who gave it)
    assert [part.split()[-1] for part in body[0][3].split("；")] == ["86.00", "96.00", "76.00"]
    assert [part.split()[-1] for part in body[1][3].split("；")] == ["58.00", "48.00", "未评分"]
    soup = page(client.get(f"/awards/admin/institutions/ranking?round_id={people.round_id}&sort=spread&dir=asc"))
    assert [tr.find_all("td")[1].get_text(strip=True) for tr in soup.select("table.ranking tbody tr")] == [
        "株洲创新服务公司",
        "长沙示范服务中心",
    ]
    # the criteria are locked now that scores are in
    assert "评分标准不能再修改" in text_of(
        page(client.get(f"/awards/admin/institutions/criteria?round_id={people.round_id}"))
    )
    # reminders go to the one reviewer who has not scored, by message and SMS
    assert client.post(f"/awards/admin/institutions/remind?round_id={people.round_id}").status_code == 303
    with app.app_context():
        reminded = db.session.scalars(sa.select(Message.user_id).where(Message.title.like("评审提醒%"))).all()
        assert reminded == [ids[2]]
        assert db.session.scalar(sa.select(sa.func.count(SmsMessage.id)).where(SmsMessage.text.like("%评审提醒%"))) == 1


def test_results_publicity_and_publication_on_the_portal(client, app, people):
    with app.app_context():
        winner = make_nomination("institution", people.institution.id, people.round_id, intro="示范中心的简介")
        loser = make_nomination("institution", people.other_institution.id, people.round_id)
        product = make_nomination(
            "product", people.institution.id, people.round_id, product_name="融资服务包", intro="产品介绍文字"
        )
        expert = make_nomination(
            "expert",
            people.other_institution.id,
            people.round_id,
            name="王专家",
            employer="湘南学院",
            bio="专家简介文字",
        )
        waiting = make_nomination(
            "product", people.other_institution.id, people.round_id, status="submitted", product_name="未审产品"
        )
    # before anything is published the portal says so honestly
    for path, empty in (
        ("/excellent/institutions", "暂无已公布的优秀服务机构"),
        ("/excellent/products", "暂无已公布的优秀服务产品"),
        ("/excellent/experts", "暂无已公布的优秀服务专家"),
    ):
        assert empty in text_of(page(client.get(path)))
    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    today = local_today()
    dates = {"starts": today.isoformat(), "ends": (today + timedelta(days=6)).isoformat()}
    soup = page(client.post(f"/awards/admin/publicity{base}", data=dates), status=422)
    assert "还有 4 项申报未确定" in text_of(soup)
    client.post(f"/awards/admin/institutions/results{base}", data={f"result_{winner}": "1", f"result_{loser}": "0"})
    client.post(f"/awards/admin/products/results{base}", data={f"result_{product}": "1", f"result_{waiting}": "1"})
    client.post(f"/awards/admin/experts/results{base}", data={f"result_{expert}": "1"})
    soup = page(
        client.post(f"/awards/admin/publicity{base}", data=dict(dates, ends=(today - timedelta(days=1)).isoformat())),
        status=422,
    )
    assert "公示结束日期不能早于开始日期" in text_of(soup)
    assert client.post(f"/awards/admin/publicity{base}", data=dates).status_code == 303
    # scoring and assignment stop during 公示
    assert "已进入公示" in text_of(page(client.get(f"/awards/admin/institutions/assignments{base}")))
    logout(client)

    # during 公示 the portal shows the 公示 list with its dates; nothing is published yet
    soup = page(client.get("/excellent/institutions"))
    text = text_of(soup)
    assert f"公示期 {dates['starts']} 至 {dates['ends']}" in text and "长沙示范服务中心" in text
    assert "株洲创新服务公司" not in text and "未审产品" not in text_of(page(client.get("/excellent/products")))

    login(client, people.province.username)
    # during the 公示期 发布 needs a reason, which the 操作日志 keeps
    refused = text_of(page(client.post(f"/awards/admin/publish{base}", follow_redirects=True)))
    assert f"公示期至 {dates['ends']} 结束，公示期满后才能发布" in refused
    with app.app_context():
        assert db.session.get(Filing, winner).status != "approved"
    early = {"early_reason": "年度表彰大会提前召开"}
    assert client.post(f"/awards/admin/publish{base}", data=early).status_code == 303
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "award.publish"))
        assert entry.after["early_reason"] == "年度表彰大会提前召开"
        statuses = dict(db.session.execute(sa.select(Filing.id, Filing.status)).all())
        assert statuses[winner] == "approved" and statuses[loser] == "rejected" and statuses[waiting] == "submitted"
        owners = db.session.scalars(
            sa.select(Message.title).where(Message.user_id == people.other_institution.id)
        ).all()
        assert any("未入选" in title for title in owners) and any("入选" in title for title in owners)
    soup = page(
        client.post(f"/awards/admin/institutions/results{base}", data={f"result_{winner}": "0"}, follow_redirects=True)
    )
    assert "评选结果已发布，不能再修改" in text_of(soup)
    logout(client)

    soup = page(client.get("/excellent/institutions"))
    text = text_of(soup)
    assert "长沙示范服务中心" in text and "2026" in text and "长沙市" in text and "示范中心的简介" in text
    assert "株洲创新服务公司" not in text and "公示期" not in text
    text = text_of(page(client.get("/excellent/products")))
    assert "融资服务包" in text and "产品介绍文字" in text
    text = text_of(page(client.get("/excellent/experts")))
    assert "王专家" in text and "专家简介文字" in text and "株洲市" in text


def test_publishing_waits_for_the_publicity_to_start(client, app, people):
    with app.app_context():
        winner = make_nomination("institution", people.institution.id, people.round_id)
    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    client.post(f"/awards/admin/institutions/results{base}", data={f"result_{winner}": "1"})
    later = local_today() + timedelta(days=3)
    assert (
        client.post(
            f"/awards/admin/publicity{base}",
            data={"starts": later.isoformat(), "ends": (later + timedelta(days=5)).isoformat()},
        ).status_code
        == 303
    )
    soup = page(client.post(f"/awards/admin/publish{base}", follow_redirects=True))
    assert f"公示将于 {later.isoformat()} 开始" in text_of(soup)
    assert "暂无已公布的优秀服务机构" in text_of(page(client.get("/excellent/institutions")))
    with app.app_context():
        assert db.session.get(Filing, winner).status == "city_approved"


def test_admin_home_counts(client, app, people):
    with app.app_context():
        make_nomination("institution", people.institution.id, people.round_id, status="submitted")
        make_nomination("product", people.institution.id, people.round_id)
    login(client, people.city.username)
    text = text_of(page(client.get("/admin/")))
    assert "待资格审查的优秀服务机构申报" in text
    logout(client)
    login(client, people.province.username)
    text = text_of(page(client.get("/admin/")))
    assert "待分配评审专家的优秀评选申报" in text


def test_reviewer_downloads_attachments_of_its_task_only(client, app, people):
    import io

    from app.filings.models import Attachment

    with app.app_context():
        reviewer = expert_at("甲大学", reviewer=True)
        other = expert_at("乙大学", reviewer=True)
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        reviewer_name, reviewer_id, other_id = reviewer.username, reviewer.id, other.id
    login(client, people.province.username)
    for user_id in (reviewer_id, other_id):
        client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": user_id})
    logout(client)
    # an attachment stored as the owner would upload it
    with app.test_request_context():
        from werkzeug.datastructures import FileStorage

        from app.blueprints.auth.models import User
        from app.filings.attachments import attachment_store

        attachment = attachment_store(
            FileStorage(io.BytesIO(b"%PDF-1.4\n%x\n"), "证明.pdf"), user=db.session.get(User, people.institution.id)
        )
        attachment.filing_id = nomination
        db.session.commit()
        attachment_id = attachment.id
        db.session.remove()
    mine = assignment_id(app, nomination, reviewer_id)
    login(client, reviewer_name)
    soup = page(client.get(f"/awards/reviews/{mine}"))
    link = soup.find("a", string="证明.pdf")["href"]
    assert link == f"/awards/reviews/{mine}/attachments/{attachment_id}"
    assert client.get(link).status_code == 200
    assert client.get(f"/awards/institutions/{nomination}/attachments/{attachment_id}").status_code == 403
    theirs = assignment_id(app, nomination, other_id)
    assert client.get(f"/awards/reviews/{theirs}/attachments/{attachment_id}").status_code == 404
    # a conflict that arises later (the reviewer moves to the nominating institution) closes the door
    with app.app_context():
        db.session.scalar(sa.select(Expert).where(Expert.user_id == reviewer_id)).employer = "长沙示范服务中心"
        db.session.commit()
    assert client.get(f"/awards/reviews/{mine}").status_code == 404
    assert client.get(link).status_code == 404
    assert "暂无分配给您的评审任务" in text_of(page(client.get("/awards/reviews/")))
    with app.app_context():
        assert db.session.get(Attachment, attachment_id) is not None


def test_province_return_clears_the_result_and_export_shows_labels(client, app, people):
    import io

    from openpyxl import load_workbook

    from app.blueprints.awards.models import AwardResult

    with app.app_context():
        product = make_nomination("product", people.institution.id, people.round_id, product_name="导出产品")
    login(client, people.province.username)
    client.post(f"/awards/admin/products/results?round_id={people.round_id}", data={f"result_{product}": "1"})
    with app.app_context():
        assert db.session.get(AwardResult, product) is not None
    response = queue_export(client, "/awards/products/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert "服务类别" in rows[0] and rows[1][rows[0].index("服务类别")] == "政策服务"
    assert (
        client.post(
            f"/awards/products/{product}/review", data={"action": "province_return", "comment": "材料不全"}
        ).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(AwardResult, product) is None
        assert db.session.get(Filing, product).status == "returned"


def test_a_result_waits_for_every_assigned_score(client, app, people):
    with app.app_context():
        first = expert_at("甲大学", reviewer=True, name="评审甲")
        second = expert_at("乙大学", reviewer=True, name="评审乙")
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        first_id, second_id, first_name, second_name = first.id, second.id, first.username, second.username
    login(client, people.province.username)
    for reviewer in (first_id, second_id):
        client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer})
    logout(client)
    login(client, first_name)
    assert (
        score(client, app, assignment_id(app, nomination, first_id), [90, 80, 70, 60], people.round_id).status_code
        == 303
    )
    logout(client)

    login(client, people.province.username)
    base = f"?round_id={people.round_id}"
    soup = page(
        client.post(f"/awards/admin/institutions/results{base}", data={f"result_{nomination}": "0"}), status=422
    )
    assert "还有评审专家未提交评分，全部评分提交后才能确定入选或未入选" in text_of(soup)
    with app.app_context():
        assert db.session.get(AwardResult, nomination) is None
    logout(client)
    login(client, second_name)
    assert (
        score(client, app, assignment_id(app, nomination, second_id), [60, 60, 60, 60], people.round_id).status_code
        == 303
    )
    logout(client)
    login(client, people.province.username)
    client.post(f"/awards/admin/institutions/results{base}", data={f"result_{nomination}": "0"})
    with app.app_context():
        assert db.session.get(AwardResult, nomination).selected is False


def test_nominations_close_once_the_publicity_has_begun(client, app, people):
    from app.blueprints.awards.models import AwardPublication

    with app.app_context():
        draft = make_nomination("product", people.institution.id, people.round_id, status="draft")
        today = local_today()
        db.session.add(
            AwardPublication(round_id=people.round_id, publicity_starts=today, publicity_ends=today + timedelta(days=6))
        )
        db.session.commit()
    login(client, people.institution.username)
    response = client.post("/awards/products/new", follow_redirects=True)
    assert "/step/" not in response.request.path  # no new nomination
    soup = page(client.get(f"/awards/products/{draft}/step/basic", follow_redirects=True))
    assert "已进入公示，申报不能再修改或提交" in text_of(soup)
    client.post(f"/awards/products/{draft}/submit")
    with app.app_context():
        assert db.session.get(Filing, draft).status == "draft"


def test_the_reviewer_does_not_see_how_to_reach_the_applicant(client, app, people):
    with app.app_context():
        reviewer = expert_at("甲大学", reviewer=True, name="评审甲")
        nomination = make_nomination("institution", people.institution.id, people.round_id)
        reviewer_id, reviewer_name = reviewer.id, reviewer.username
        institution = db.session.get(Filing, nomination).institution
        contact, phone = institution.contact, institution.phone
    login(client, people.province.username)
    client.post(f"/awards/admin/nominations/{nomination}/reviewers", data={"reviewer_id": reviewer_id})
    assert phone in text_of(page(client.get(f"/awards/institutions/{nomination}/review")))  # the admin does
    logout(client)
    login(client, reviewer_name)
    text = text_of(page(client.get(f"/awards/reviews/{assignment_id(app, nomination, reviewer_id)}")))
    assert "联系人" not in text and phone not in text and (not contact or contact not in text)
