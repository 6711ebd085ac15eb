"""The status machine shared by every kind of filing (DESIGN.md, "The filing engine").

    draft ──submit──▶ submitted ──city approve──▶ city_approved ──province approve──▶ approved
      ▲                  │ city return                │ province return / reject
      └──── returned ◀───┴────────────────────────────┴──────────▶ rejected

A module with one review level (the monthly report) makes the city's approval final, and lets the
province admin act at that level too.
"""

from dataclasses import dataclass
from functools import cache

DRAFT = "draft"
SUBMITTED = "submitted"
CITY_APPROVED = "city_approved"
APPROVED = "approved"
RETURNED = "returned"
REJECTED = "rejected"

STATUS_LABELS = {
    DRAFT: "草稿",
    SUBMITTED: "待审核",
    CITY_APPROVED: "初审通过",
    APPROVED: "审核通过",
    RETURNED: "已退回",
    REJECTED: "不予通过",
}
STATUS_CSS = {
    DRAFT: "status",
    SUBMITTED: "status status-warn",
    CITY_APPROVED: "status status-warn",
    APPROVED: "status status-ok",
    RETURNED: "status status-bad",
    REJECTED: "status status-bad",
}
EDITABLE = (DRAFT, RETURNED)
DELETABLE = (DRAFT,)


class TransitionError(ValueError):
    """A transition that is not allowed now; the message is for the user."""


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple
    target: str
    level: str  # "owner", "city" or "province"
    label: str  # the button
    needs_comment: bool = False


@cache  # a handful of level tuples; a queue page asks once per row
def transitions(levels):
    """The transitions of a module with review ``levels`` ("city",) or ("city", "province")."""
    owner = (
        Transition("submit", (DRAFT, RETURNED), SUBMITTED, "owner", "提交"),
        Transition("withdraw", (SUBMITTED,), DRAFT, "owner", "撤回修改"),
    )
    if levels == ("city",):
        return owner + (
            Transition("approve", (SUBMITTED,), APPROVED, "city", "审核通过"),
            Transition("return", (SUBMITTED,), RETURNED, "city", "退回", needs_comment=True),
        )
    return owner + (
        Transition("city_approve", (SUBMITTED,), CITY_APPROVED, "city", "初审通过"),
        Transition("city_return", (SUBMITTED,), RETURNED, "city", "退回", needs_comment=True),
        Transition("province_approve", (CITY_APPROVED,), APPROVED, "province", "通过"),
        Transition("province_return", (CITY_APPROVED,), RETURNED, "province", "退回", needs_comment=True),
        Transition("province_reject", (CITY_APPROVED,), REJECTED, "province", "不予通过", needs_comment=True),
    )


def may_act(level, filing, user, levels):
    """Whether ``user`` acts at ``level`` on ``filing``."""
    if level == "owner":
        return filing.owner_id == user.id
    if level == "city":
        if user.role == "city_admin":
            return user.city_code is not None and user.city_code == filing.city_code
        # With a single level the province admin may act in the city's place.
        return user.role == "province_admin" and levels == ("city",)
    if level == "province":
        return user.role == "province_admin"
    return False


def available(filing, user, levels, *, level=None):
    """Transitions ``user`` may make on ``filing`` now (optionally only those at ``level``)."""
    return [
        t
        for t in transitions(levels)
        if filing.status in t.sources and may_act(t.level, filing, user, levels) and (level is None or t.level == level)
    ]


def find(levels, name):
    for t in transitions(levels):
        if t.name == name:
            return t
    raise TransitionError("未知的操作。")
