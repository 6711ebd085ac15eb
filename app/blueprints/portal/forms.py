"""Forms of the portal: public filters (GET), 通知公告管理 and the 核心服务机构 import."""

from datetime import datetime, timezone

from flask_wtf.file import FileField
from wtforms import BooleanField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from app.blueprints.portal.models import NOTICE_CATEGORIES
from app.forms import BaseForm, required
from app.utils import CHINA, to_local

DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
PUBLISH_CHOICES = [("now", "立即发布"), ("at", "指定发布时间"), ("draft", "保存为草稿，暂不发布")]
NOTICE_STATUSES = [("", "全部"), ("public", "已发布"), ("scheduled", "定时发布"), ("draft", "未发布")]


class FilterForm(BaseForm):
    """A GET filter bar: read from the query string; a bad value is ignored, never refused."""

    class Meta:
        csrf = False

    def values(self):
        self.validate()
        return {name: (None if f.errors else (f.data or None)) for name, f in self._fields.items()}


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class DirectoryFilterForm(FilterForm):
    city_code = SelectField("所在市州", validate_choice=False)
    type_id = SelectField("机构类型", coerce=_int_or_none, validate_choice=False)
    category_id = SelectField("服务类别", coerce=_int_or_none, validate_choice=False)
    q = StringField("关键词", validators=[Length(max=50)])

    def fill_choices(self, choices):
        self.city_code.choices = [("", "全部市州")] + choices["cities"]
        self.type_id.choices = [("", "全部类型")] + choices["types"]
        self.category_id.choices = [("", "全部服务类别")] + choices["categories"]

    def values(self):
        values = super().values()
        # only values that are on the lists count (a stale link must not filter on nonsense)
        for name in ("city_code", "type_id", "category_id"):
            if values[name] is not None and values[name] not in {value for value, _ in self[name].choices}:
                values[name] = None
        return values


class NoticeFilterForm(FilterForm):
    category = SelectField("栏目", choices=[("", "全部")] + [(c, c) for c in NOTICE_CATEGORIES], validate_choice=False)
    status = SelectField("状态", choices=NOTICE_STATUSES, validate_choice=False)
    q = StringField("标题", validators=[Length(max=50)])


class NoticeForm(BaseForm):
    title = StringField("标题", validators=[required("请填写标题。"), Length(max=200, message="标题不能超过 200 字。")])
    category = RadioField(
        "栏目",
        choices=[(c, c) for c in NOTICE_CATEGORIES],
        default=NOTICE_CATEGORIES[0],
        validators=[required("请选择栏目。")],
        validate_choice=False,
    )
    body = TextAreaField(
        "正文", validators=[Optional(), Length(max=50000, message="正文不能超过 50000 字。")], render_kw={"rows": 16}
    )
    publish = RadioField(
        "发布方式",
        choices=PUBLISH_CHOICES,
        default="now",
        validators=[required("请选择发布方式。")],
        validate_choice=False,
    )
    publish_at = StringField("发布时间", render_kw={"type": "datetime-local"})
    pinned = BooleanField("设为首页头条（NEWS）")
    files = MultipleFileField("附件")

    def fill_from(self, notice):
        """On GET of an existing notice: its publishing state as the form's choices."""
        if notice.is_published and notice.is_public:
            self.publish.data = "now"
        elif notice.is_published:
            self.publish.data = "at"
        else:
            self.publish.data = "draft"
        if notice.is_published:
            self.publish_at.data = to_local(notice.published_at).strftime("%Y-%m-%dT%H:%M")

    def validate_category(self, field):
        if field.data not in NOTICE_CATEGORIES:
            raise ValidationError("请选择栏目。")

    def validate_publish(self, field):
        if field.data not in {value for value, _ in PUBLISH_CHOICES}:
            raise ValidationError("请选择发布方式。")

    def validate_publish_at(self, field):
        self.publish_at_utc = None
        if self.publish.data != "at":
            return
        if not field.data:
            raise ValidationError("请选择发布时间。")
        for pattern in DATETIME_FORMATS:
            try:
                local = datetime.strptime(field.data, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValidationError("请按 2024-07-08 09:00 的格式填写发布时间。")
        if not 2000 <= local.year <= 2100:
            raise ValidationError("发布时间不在合理范围内，请核对。")
        # typed in China time; the database keeps naive UTC
        self.publish_at_utc = local.replace(tzinfo=CHINA).astimezone(timezone.utc).replace(tzinfo=None)


class ImportForm(BaseForm):
    sheet = FileField("Excel 文件")

    def validate_sheet(self, field):
        name = (getattr(field.data, "filename", "") or "").lower()
        if not name:
            raise ValidationError("请选择要导入的 Excel 文件（.xlsx）。")
        if not name.endswith(".xlsx"):
            raise ValidationError("只能导入 .xlsx 格式的 Excel 文件；.xls 文件请先在 Excel 中另存为 .xlsx。")
