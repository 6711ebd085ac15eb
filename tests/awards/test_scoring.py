"""Score arithmetic against values worked out by hand."""

from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from app.blueprints.awards import scoring

CRITERIA = [
    SimpleNamespace(id=1, max_score=100, weight=30),
    SimpleNamespace(id=2, max_score=50, weight=30),
    SimpleNamespace(id=3, max_score=20, weight=40),
]


def test_card_total_is_weighted_share_of_full_marks():
    # 80/100*30 + 40/50*30 + 10/20*40 = 24 + 24 + 20 = 68
    assert scoring.card_total({1: 80, 2: 40, 3: 10}, CRITERIA) == 68
    assert scoring.card_total({1: 100, 2: 50, 3: 20}, CRITERIA) == 100
    assert scoring.card_total({1: 0, 2: 0, 3: 0}, CRITERIA) == 0


def test_weights_not_adding_to_100_are_normalised():
    criteria = [SimpleNamespace(id=1, max_score=10, weight=1), SimpleNamespace(id=2, max_score=10, weight=3)]
    # (5/10*1 + 10/10*3) * 100 / 4 = 3.5 * 25 = 87.5
    assert scoring.card_total({1: 5, 2: 10}, criteria) == Fraction(175, 2)


def test_summary_mean_count_spread_and_rounding():
    summary = scoring.summarize([{1: 80, 2: 40, 3: 10}, {1: 90, 2: 45, 3: 15}, {1: 70, 2: 35, 3: 13}], CRITERIA)
    # totals: 68; 27+27+30 = 84; 21+21+26 = 68  -> mean 220/3 = 73.333..., spread 16
    assert summary.count == 3
    assert summary.mean == Fraction(220, 3)
    assert summary.mean_display == Decimal("73.33")
    assert summary.spread_display == Decimal("16.00")
    assert scoring.to_decimal(Fraction(1, 200)) == Decimal("0.01")  # half up


def test_rank_shares_places_on_ties_and_skips_unscored():
    rows = [
        SimpleNamespace(name=n, summary=scoring.Summary(t))
        for n, t in (("甲", [Fraction(80)]), ("乙", [Fraction(90)]), ("丙", [Fraction(80)]), ("丁", []))
    ]
    scoring.rank(rows)
    assert [(r.name, r.rank) for r in rows] == [("甲", 2), ("乙", 1), ("丙", 2), ("丁", None)]
    ordered = scoring.sort_rows(rows, "mean", True)
    assert [r.name for r in ordered][:1] == ["乙"] and ordered[-1].name == "丁"
    assert [r.name for r in scoring.sort_rows(rows, "count", False)][0] == "丁"
