"""Forms of 优秀评选: the three 基本信息 steps, the 评分标准, a reviewer's scores, 公示 dates."""

import re

from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.blueprints.awards.models import CHARGE_MODES
from app.forms import BaseForm, CharCount, CountField, MoneyField, Phone, input_required, required
from app.reference.services import dict_items

HONORS_MIN, HONORS_MAX = 300, 500
INSTITUTION_INTRO_MAX = 800
PRODUCT_INTRO_MAX = 500
BIO_MAX = 500
ACHIEVEMENTS_MAX = 2000
POINTS_MAX = 20
POINT_MAX = 200

# "1." "1、" "（1）" "(1)" "①" "-" "•" in front of a point: the list numbers the points itself
_NUMBERING = re.compile(r"^\s*(?:[（(]?\d{1,2}[)）.、．]|[①-⑳]|[-•·*])\s*")


def split_points(text):
    """产品说明 typed one point per line, without any numbering the writer added."""
    points = []
    for line in (text or "").splitlines():
        line = _NUMBERING.sub("", line, count=1).strip()
        if line:
            points.append(line)
    return points


def _points_filter(value):
    if not isinstance(value, str):
        return value
    return "\n".join(split_points(value))


class PointList:
    """产品说明: at least one point, at most POINTS_MAX, each at most POINT_MAX 字."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        points = split_points(field.data)
        if not points:
            raise ValidationError("请至少列明一条服务产品示范性或创新性说明。")
        if len(points) > POINTS_MAX:
            raise ValidationError(f"最多列明 {POINTS_MAX} 条（当前 {len(points)} 条）。")
        for number, point in enumerate(points, start=1):
            if len(point) > POINT_MAX:
                raise ValidationError(f"第 {number} 条超过 {POINT_MAX} 字，请精简或拆分为几条。")


def _category_choices(form, filing):
    current = getattr(filing, "category_id", None)
    form.category_id.choices = [("", "请选择")] + [
        (item.id, item.name) for item in dict_items("service_category", include_id=current)
    ]


def _coerce_id(value):
    return int(value) if value not in (None, "", "None") else None


class InstitutionBasicForm(BaseForm):
    """优秀服务机构申报 · 基本信息 (units as the manual warns: 人, 家次, 场次, 万元)."""

    staff_count = CountField("服务人员数", [input_required("请输入服务人员数(人)。")], unit="人")
    served_count = CountField("上年度服务企业数", [input_required("请输入上年度服务企业数(家次)。")], unit="家次")
    activity_count = CountField("上年度服务活动数", [input_required("请输入上年度服务活动数(场次)。")], unit="场次")
    revenue = MoneyField("上年度营业收入", [input_required("请输入上年度营业收入(万元)。")])
    honors = TextAreaField(
        "荣誉资质", [input_required("请输入荣誉资质。"), CharCount(minimum=HONORS_MIN, maximum=HONORS_MAX)]
    )
    intro = TextAreaField("机构简介", [input_required("请输入机构简介。"), CharCount(maximum=INSTITUTION_INTRO_MAX)])


class ProductBasicForm(BaseForm):
    """优秀服务产品申报 · 基本信息."""

    product_name = StringField(
        "产品名称", [required("请输入产品名称。"), Length(max=100, message="产品名称不超过 100 字。")]
    )
    category_id = SelectField("服务类别", [required("请选择服务类别。")], coerce=_coerce_id)
    charge_mode = RadioField(
        "收费方式", choices=[(mode, mode) for mode in CHARGE_MODES], validators=[input_required("请选择收费方式。")]
    )
    served_count = CountField("上年度服务企业数", [input_required("请输入上年度服务企业数(家次)。")], unit="家次")
    intro = TextAreaField("产品介绍", [input_required("请输入产品介绍。"), CharCount(maximum=PRODUCT_INTRO_MAX)])
    points = TextAreaField("产品说明", [PointList()], filters=(_points_filter,))


class ExpertBasicForm(BaseForm):
    """优秀服务专家申报 · 基本信息."""

    name = StringField("姓名", [required("请输入姓名。"), Length(max=40, message="姓名不超过 40 字。")])
    gender = RadioField("性别", choices=[("男", "男"), ("女", "女")], validators=[input_required("请选择性别。")])
    age = CountField(
        "年龄", [input_required("请输入年龄。"), NumberRange(18, 100, "请输入 18-100 之间的年龄。")], unit="岁"
    )
    employer = StringField(
        "工作单位", [required("请输入工作单位。"), Length(max=120, message="工作单位不超过 120 字。")]
    )
    title = StringField("职称", [required("请输入职称。"), Length(max=40, message="职称不超过 40 字。")])
    category_id = SelectField("专业领域", [required("请选择专业领域。")], coerce=_coerce_id)
    phone = StringField("联系电话", [required("请输入联系电话。"), Phone()])
    bio = TextAreaField("个人简介", [input_required("请输入个人简介。"), CharCount(maximum=BIO_MAX)])
    achievements = TextAreaField(
        "研究成果/荣誉/奖励", [input_required("请输入研究成果/荣誉/奖励。"), CharCount(maximum=ACHIEVEMENTS_MAX)]
    )


prepare_category = _category_choices


# ---- 评分标准 --------------------------------------------------------------------------------


class CriterionRow(BaseForm):
    """One line of the 评分标准; a line with an empty name is left out."""

    class Meta:
        csrf = False

    name = StringField("评分项", [Optional(), Length(max=40, message="评分项不超过 40 字。")])
    max_score = IntegerField("满分", [Optional(), NumberRange(1, 1000, "满分应在 1-1000 之间。")])
    weight = IntegerField("权重", [Optional(), NumberRange(1, 100, "权重应在 1-100 之间。")])

    def validate_name(self, field):
        if field.data and (self.max_score.data is None or self.weight.data is None):
            raise ValidationError("请填写该评分项的满分和权重。")


class CriteriaForm(BaseForm):
    rows = FieldList(FormField(CriterionRow), min_entries=1, max_entries=12)

    def validate_rows(self, field):
        named = [row for row in field.entries if row.form.name.data]
        if not named:
            raise ValidationError("请至少设置一个评分项。")
        names = [row.form.name.data for row in named]
        if len(set(names)) != len(names):
            raise ValidationError("评分项名称不能重复。")
        total = sum(row.form.weight.data or 0 for row in named)
        if total != 100:
            raise ValidationError(f"各评分项权重合计须为 100（当前合计 {total}）。")


# ---- a reviewer's scores ------------------------------------------------------------------------


def score_form(criteria, formdata=None):
    """The 评分 form for ``criteria``: one required whole-number score and an optional comment each."""

    class ScoreForm(BaseForm):
        pass

    for criterion in criteria:
        setattr(
            ScoreForm,
            f"score_{criterion.id}",
            IntegerField(
                criterion.name,
                [
                    input_required(f"请为“{criterion.name}”打分。"),
                    NumberRange(0, criterion.max_score, f"“{criterion.name}”的得分应在 0-{criterion.max_score} 之间。"),
                ],
                description=f"分（满分 {criterion.max_score}）",
                render_kw={"inputmode": "numeric", "autocomplete": "off"},
            ),
        )
        setattr(
            ScoreForm,
            f"comment_{criterion.id}",
            StringField(f"{criterion.name}评语", [Length(max=500, message="评语不超过 500 字。")]),
        )
    return ScoreForm(formdata=formdata) if formdata is not None else ScoreForm()


# ---- assignments, 公示 ---------------------------------------------------------------------------


class AutoAssignForm(BaseForm):
    per_nomination = IntegerField(
        "每项申报的评审专家人数",
        [input_required("请输入每项申报的评审专家人数。"), NumberRange(1, 15, "请输入 1-15 之间的人数。")],
        default=3,
    )


class AssignForm(BaseForm):
    reviewer_id = SelectField("评审专家", [required("请选择评审专家。")], coerce=_coerce_id)


class EmployerVerifyForm(BaseForm):
    """核实工作单位: the employer the province centre has verified (e.g. from the expert's 聘用证明)."""

    employer = StringField(
        "核实的工作单位", [required("请输入核实的工作单位。"), Length(max=120, message="工作单位不超过 120 字。")]
    )


class PublicityForm(BaseForm):
    starts = DateField("公示开始日期", [input_required("请选择公示开始日期。")], format="%Y-%m-%d")
    ends = DateField("公示结束日期", [input_required("请选择公示结束日期。")], format="%Y-%m-%d")

    def validate_ends(self, field):
        if field.data and self.starts.data and field.data < self.starts.data:
            raise ValidationError("公示结束日期不能早于开始日期。")


REASON_MAX = 300


class UnpublishForm(BaseForm):
    """撤销发布: why (required; the 操作日志 keeps it and the applicants are told); ``seen`` is the
    发布 time the page showed, so a repeated request is recognised (publication.results_unpublish)."""

    reason = TextAreaField(
        "撤销发布的理由",
        [required("请填写撤销发布的理由。"), Length(max=REASON_MAX, message=f"理由不能超过 {REASON_MAX} 字。")],
    )
    seen = HiddenField()


class OverrideForm(BaseForm):
    """未全部评分时确定评选结果: the reason the decision cannot wait for the missing scores (required)."""

    override_reason = TextAreaField(
        "未全部评分仍确定结果的理由",
        [
            required("请填写未全部评分仍确定结果的理由。"),
            Length(max=REASON_MAX, message=f"理由不能超过 {REASON_MAX} 字。"),
        ],
    )
