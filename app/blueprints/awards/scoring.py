"""Score arithmetic, kept apart from the database so the ranking can be checked by hand.

A reviewer's total for a nomination is on a 100-point scale: each criterion's score as a share of
its full score, weighted by the criterion's weight (weights add up to 100):

    total = Σ (score_i / max_i × weight_i) × 100 / Σ weight_i

A nomination's 加权平均分 is the mean of its reviewers' totals; 极差 is the highest total minus
the lowest. Exact fractions are used throughout and rounded (half up) to two decimals for display.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

DEFAULT_CRITERIA = [("服务能力", 100, 30), ("服务成效", 100, 30), ("创新示范", 100, 20), ("社会评价", 100, 20)]
CENT = Decimal("0.01")


def to_decimal(value):
    """A Fraction as a Decimal with two places, rounded half up."""
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def card_total(scores, criteria):
    """One reviewer's total: ``scores`` maps criterion id to score; ``criteria`` has id, max_score, weight."""
    weights = sum(c.weight for c in criteria)
    if not weights:
        return Fraction(0)
    total = sum(Fraction(scores.get(c.id, 0), c.max_score) * c.weight for c in criteria)
    return total * 100 / weights


@dataclass
class Summary:
    totals: list = field(default_factory=list)  # each submitted reviewer's total (Fractions)

    @property
    def count(self):
        return len(self.totals)

    @property
    def mean(self):
        return sum(self.totals, Fraction(0)) / len(self.totals) if self.totals else None

    @property
    def spread(self):
        return max(self.totals) - min(self.totals) if self.totals else None

    @property
    def mean_display(self):
        return to_decimal(self.mean)

    @property
    def spread_display(self):
        return to_decimal(self.spread)


def summarize(cards, criteria):
    """``cards``: one {criterion id: score} per submitted reviewer."""
    return Summary([card_total(card, criteria) for card in cards])


SORT_KEYS = {
    "mean": lambda row: (row.summary.mean is not None, row.summary.mean or 0),
    "count": lambda row: row.summary.count,
    "spread": lambda row: (row.summary.spread is not None, row.summary.spread or 0),
    "name": lambda row: row.name,
}


def rank(rows):
    """Number rows by weighted mean, highest first; rows without scores get no rank. Sets row.rank."""
    ordered = sorted((r for r in rows if r.summary.mean is not None), key=lambda r: r.summary.mean, reverse=True)
    previous, position = None, 0
    for index, row in enumerate(ordered, start=1):
        if row.summary.mean != previous:
            position, previous = index, row.summary.mean
        row.rank = position
    for row in rows:
        if row.summary.mean is None:
            row.rank = None
    return rows


def sort_rows(rows, key="mean", descending=True):
    return sorted(rows, key=SORT_KEYS.get(key, SORT_KEYS["mean"]), reverse=descending)
