"""Issue 17's statement budget (DESIGN.md "Performance budgets"): every signed-in list, dashboard,
review and step page runs at most 10 statements, on data from `flask seed-scale` (every status in
every 市州, several months), and the same number when there are more rows (no N+1).

BEGIN is not counted (PostgreSQL's driver does not send it as a statement). Timings are `make bench`'s
job, not this test's."""

import pytest
import sqlalchemy as sa

from app.blueprints.applications.models import CoreApplication
from app.blueprints.auth.models import User
from app.blueprints.complaints.models import Complaint
from app.blueprints.reports.models import MonthlyReport
from app.extensions import cache, db
from app.filings.models import Filing
from tests.helpers import login

BUDGET = 10
PASSWORD = "Bench2026pass"


def _pages(ids):
    institution = [
        "/workspace/",
        "/workspace/messages",
        "/reports/",
        f"/reports/{ids['draft']}/step/basic",
        f"/reports/{ids['approved']}",
        "/applications/",
        "/awards/institutions/",
    ]
    city = [
        "/admin/",
        "/reports/review",
        f"/reports/{ids['submitted']}/review",
        "/reports/completeness",
        "/applications/review",
        "/complaints/admin",
        "/admin/users",
        f"/admin/institutions/{ids['city_institution']}",
    ]
    province = [
        "/admin/",
        "/reports/review",
        "/reports/completeness",
        "/applications/review",
        f"/applications/{ids['city_approved']}/review",
        "/complaints/admin",
        f"/complaints/admin/{ids['complaint']}",
        "/complaints/admin/stats",
        "/admin/users",
        "/admin/audit",
        f"/admin/institutions/{ids['institution']}",
        "/awards/admin/",
        "/notices/manage",
        "/reports/exports",
    ]
    return [("bench-inst-00001", p) for p in institution] + [
        *((f"bench-city-{ids['city']}", p) for p in city),
        *(("bench-admin", p) for p in province),
    ]


@pytest.fixture
def seeded(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["seed-scale", "--institutions", "42", "--months", "4"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        owner = db.session.scalar(sa.select(User).where(User.username_key == "bench-inst-00001"))

        def first(select):
            found = db.session.scalar(select.limit(1))
            assert found is not None, select
            return found

        report = sa.select(MonthlyReport.id).where(MonthlyReport.owner_id == owner.id)
        submitted = db.session.execute(
            sa.select(Filing.id, Filing.city_code, Filing.institution_id)
            .where(Filing.kind == "monthly_report", Filing.status == "submitted")
            .order_by(Filing.id)
            .limit(1)
        ).one()
        return {
            "institution": owner.institution.id,
            "draft": first(report.where(MonthlyReport.status == "draft").order_by(MonthlyReport.id.desc())),
            "approved": first(report.where(MonthlyReport.status == "approved").order_by(MonthlyReport.id.desc())),
            "submitted": submitted.id,
            "city": submitted.city_code,
            "city_institution": submitted.institution_id,
            "city_approved": first(
                sa.select(CoreApplication.id)
                .where(CoreApplication.status == "city_approved")
                .order_by(CoreApplication.id)
            ),
            "complaint": first(sa.select(Complaint.id).where(Complaint.status != "unverified").order_by(Complaint.id)),
        }


def _over_budget(app, visits, before_each=lambda: None):
    """[(who, path, count, statements)] of the visits (who: a username, or None for a visitor)
    that ran more than BUDGET statements, each after a first visit (the per-process lists)."""
    statements = []

    def note(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    clients = {}
    over = []
    for username, path in visits:
        client = clients.get(username)
        if client is None:
            client = clients[username] = app.test_client()
            if username:
                assert login(client, username, PASSWORD).status_code == 303
        assert client.get(path).status_code == 200, path  # warm the per-process reference lists
        before_each()
        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            statements.clear()
            response = client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 200, path
        if len(statements) > BUDGET:
            over.append((username, path, len(statements), statements[:]))
    return over


def _report(over):
    return "\n\n".join(f"{u} {p}: {n} statements\n  " + "\n  ".join(s[:160] for s in st) for u, p, n, st in over)


def test_signed_in_pages_stay_within_ten_statements(app, seeded):
    over = _over_budget(app, _pages(seeded))
    assert not over, _report(over)


def test_portal_pages_on_a_cache_miss_stay_within_ten_statements(app, seeded):
    """What an anonymous visitor's page costs when nothing of it is cached (the page, the
    directory's and the 调度大数据's kept results): the 首页 reads its three notice lists at once
    and only the 调度大数据 figures it shows."""

    def empty_the_cache():
        with app.app_context():
            cache.clear()

    visits = [(None, path) for path in ("/", "/notices", "/institutions", "/big-data", "/excellent/institutions")]
    over = _over_budget(app, visits, before_each=empty_the_cache)
    assert not over, _report(over)
