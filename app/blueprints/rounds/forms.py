from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from app.filings.models import ROUND_KINDS
from app.forms import BaseForm, input_required, required


class RoundForm(BaseForm):
    kind = SelectField("类型", choices=list(ROUND_KINDS.items()), validators=[required("请选择类型。")])
    title = StringField("名称", [required("请输入名称。"), Length(max=120, message="名称不超过 120 字。")])
    year = IntegerField("年度", [input_required("请输入年度。"), NumberRange(2000, 2100, "请输入四位年度，如 2026。")])
    month = IntegerField("月份", [Optional(), NumberRange(1, 12, "月份应在 1-12 之间。")])
    opens_on = DateField("开始日期", [input_required("请选择开始日期。")], format="%Y-%m-%d")
    closes_on = DateField("截止日期", [input_required("请选择截止日期。")], format="%Y-%m-%d")

    def validate_month(self, field):
        if self.kind.data == "report" and field.data is None:
            raise ValidationError("调度期须填写月份。")

    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("截止日期不能早于开始日期。")
