"""The two content steps of 核心服务机构申报, with the manual's labels and units."""

from wtforms import RadioField, TextAreaField

from app.forms import BaseForm, CharCount, CountField, MoneyField, PercentField, input_required

INTRO_MAX = 1000


class BasicInfoForm(BaseForm):
    """基本信息."""

    registered_capital = MoneyField("注册资本", [input_required("请输入注册资本(万元)。")])
    total_assets = MoneyField("总资产", [input_required("请输入总资产(万元)。")])
    facilities_value = MoneyField("服务设施", [input_required("请输入服务设施(万元)。")])
    equipment_count = CountField("仪器设备", [input_required("请输入仪器设备(台/套)。")], unit="台/套")
    floor_area = MoneyField("场地面积", [input_required("请输入场地面积(平米)。")], unit="平米")
    equipment_ratio = PercentField("仪器设备占总资产", [input_required("请输入仪器设备占总资产的百分比。")])
    own_area_ratio = PercentField("自有场地占总面积", [input_required("请输入自有场地占总面积的百分比。")])
    site_nature = RadioField(
        "场地性质", choices=[("租用", "租用"), ("自有", "自有")], validators=[input_required("请选择场地性质。")]
    )
    intro = TextAreaField("机构简介", [input_required("请输入机构简介。"), CharCount(maximum=INTRO_MAX)])


class OperationsForm(BaseForm):
    """服务经营情况; the year labels are set per round by ``label_years``."""

    served_prev2 = CountField("服务企业数", [input_required("请输入服务企业数。")], unit="家次")
    served_prev1 = CountField("服务企业数", [input_required("请输入服务企业数。")], unit="家次")
    activities_prev2 = CountField("服务活动数", [input_required("请输入服务活动数。")], unit="场次")
    activities_prev1 = CountField("服务活动数", [input_required("请输入服务活动数。")], unit="场次")


def label_years(form, filing):
    """2022年服务企业数 … for a 2024 round: the two years before the round's year."""
    year = filing.round.year
    form.served_prev2.label.text = f"{year - 2}年服务企业数"
    form.served_prev1.label.text = f"{year - 1}年服务企业数"
    form.activities_prev2.label.text = f"{year - 2}年服务活动数"
    form.activities_prev1.label.text = f"{year - 1}年服务活动数"
