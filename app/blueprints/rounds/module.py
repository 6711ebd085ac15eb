"""What the rounds module contributes to the app (app/modules.py)."""

from app.blueprints.rounds import bp, routes  # noqa: F401  (importing the views puts them on bp)
from app.modules import MenuItem, Module

module = Module(
    name="rounds",
    blueprint=bp,
    url_prefix="/rounds",
    menu=(MenuItem("审核管理", "批次管理", "rounds.list_rounds"),),
    action_labels={"round.create": "新增批次", "round.update": "修改批次"},
)
