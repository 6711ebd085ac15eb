"""What the awards module contributes to the app (app/modules.py)."""

from app.blueprints.awards import bp, institution_section, publication, routes, services  # noqa: F401  (importing the views puts them on bp)
from app.blueprints.awards.wizard import WIZARDS
from app.modules import Entry, MenuItem, Module

module = Module(
    name="awards",
    blueprint=bp,
    url_prefix="/awards",
    menu=(
        MenuItem("优秀评选", "优秀服务机构评选", "awards.list_institution_nominations"),
        MenuItem("优秀评选", "优秀服务产品评选", "awards.list_product_nominations"),
        MenuItem("优秀评选", "优秀服务专家评选", "awards.list_expert_nominations"),
        MenuItem("优秀评选", "我的评审任务", "awards.list_reviews"),
        MenuItem("优秀评选管理", "优秀服务机构评选审核", "awards.review_institution_nominations"),
        MenuItem("优秀评选管理", "优秀服务产品评选审核", "awards.review_product_nominations"),
        MenuItem("优秀评选管理", "优秀服务专家评选审核", "awards.review_expert_nominations"),
        MenuItem("优秀评选管理", "评审管理", "awards.show_judging"),
        MenuItem("优秀评选管理", "评审专家", "awards.list_reviewers"),
    ),
    home_blocks=(("awards", publication.home_block),),
    directory_sources=publication.DIRECTORY_SOURCES,
    search_sources=publication.SEARCH_SOURCES,
    # 优秀评选入口: the first page the role may open (institutions, experts, province, city admins)
    entries=(
        Entry(
            "award",
            (
                "awards.list_institution_nominations",
                "awards.list_expert_nominations",
                "awards.show_judging",
                "awards.review_institution_nominations",
            ),
        ),
    ),
    home_counts=(services.home_counts,),
    admin_institution_sections=(institution_section.sections,),
    profile_hooks=(services.expert_profile_changed,),
    wizards=WIZARDS,
    action_labels={
        "award.employer_verify": "核实专家工作单位",
        "award.assignment_conflict": "评审分配出现利益冲突",
        "award.criteria_save": "保存评分标准",
        "award.reviewer_set": "设为评审专家",
        "award.reviewer_unset": "取消评审专家",
        "award.assign": "分配评审专家",
        "award.assign_auto": "自动分配评审专家",
        "award.unassign": "取消评审分配",
        "award.remind": "提醒评审专家评分",
        "award.score": "提交评分",
        "award.results_save": "保存评选结果",
        "award.publicity_open": "开始评选结果公示",
        "award.publicity_update": "修改评选结果公示",
        "award.publish": "发布评选结果",
        "award.unpublish": "撤销发布评选结果",
        "award.unpublish_nomination": "撤销申报的入选/未入选",
        "award.results_override": "未全部评分确定评选结果",
    },
)
