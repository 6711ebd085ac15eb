"""Hooks: where a filing module's own rules meet the engine.

A module's wizard declaration (app/filings/wizard.py) says *what* the filing is; its hooks say what
the module adds to the engine's generic behaviour. Each method below is the engine's default; a
module subclasses ``Hooks``, overrides what it needs and passes an instance as
``Wizard(hooks=...)``. Every hook receives the wizard it serves, so one hooks class can serve
several kinds (the three 优秀评选 nominations).
"""

from app.filings import services


class Hooks:
    def prefill(self, wizard, filing, *, user):
        """Fill a new draft (e.g. from last month's report)."""

    def extra_checks(self, wizard, filing):
        """Module-specific reasons that stop submission (messages for the user)."""
        return []

    def on_transition(self, wizard, filing, transition, actor):
        """Called inside the transition's transaction (e.g. record a recognition term)."""

    def list_options(self, wizard):
        """Loader options for the owner's list and the review queue beyond what the engine loads
        (each row's round and institution): many-to-one parents, joinedload, no query of their own."""
        return []

    def detail_sections(self, wizard, filing):
        """For 查看 / 审核 and the Excel export: [(section title, [(label, value, unit, key)])];
        by default each step's fields (``wizard.step_sections``)."""
        return wizard.step_sections(filing)

    def detail_html(self, wizard, filing):
        """{field name: Markup} shown on 查看 / 审核 instead of a field's plain value and unit
        (e.g. a numbered list, or a figure with a comparison); the Excel export keeps plain values."""
        return {}

    def unique_key(self, wizard, *, user, round):
        """The key that makes a second filing of this owner and round a duplicate (None: no limit)."""
        if not wizard.one_per_round:
            return None
        owner = user.institution.id if user.institution else f"u{user.id}"
        return f"{wizard.kind}:{owner}:{round.id}"

    def creatable_rounds(self, wizard, user):
        """Rounds ``user`` may start a filing in now, newest first (by default the open round).

        A module with several open periods (monthly reports, late ones by exception) returns them
        all; the list page then lets the user choose, and ``endpoints.new`` takes a ``round_id``.
        """
        current = services.round_current(wizard.round_kind)
        return [current] if current else []

    def locked_message(self, wizard, filing):
        """Why the owner may not change an otherwise editable filing now (e.g. its deadline has
        passed), or None. Checked by the services before every owner change."""
        return None

    def review_notes(self, wizard, filing):
        """Short notes shown above a filing on 查看 / 审核 (e.g. 逾期报送, an explained anomaly)."""
        return []

    def late_clause(self, wizard):
        """逾期报送 as a SQL condition when the module records lateness itself (e.g. a column set at
        the first submission): the same condition whenever asked (the engine keeps statements built
        with it); None: the engine derives it from the round's deadline and the first submission
        (``services.first_submission_late``)."""
        return None

    def locked_rows(self, wizard, filings):
        """{filing id: (label, url or None)} for the owner's list: rows the owner may not edit now,
        with what they offer instead of 编辑 (e.g. 申请补报 after a deadline)."""
        return {}

    def list_context(self, wizard, *, user):
        """Extra context for the owner's list page (with ``wizard.list_template``)."""
        return {}

    def closed_message(self, wizard, *, user=None):
        """What the list page says when no round is open for filing."""
        upcoming = services.round_next(wizard.round_kind)
        if upcoming:
            return f"{upcoming.title}将于 {upcoming.opens_on:%Y-%m-%d} 开放填报，截止 {upcoming.closes_on:%Y-%m-%d}。"
        return "当前没有开放的填报批次，请留意通知公告。"
