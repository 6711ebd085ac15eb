"""The 定时任务 form: built from a schedule's declared parameters (app/jobs.py Param)."""

import re

from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from app.forms import BaseForm

DAYS_SPLIT = re.compile(r"[,，、;；\s]+")


def parse_days(text):
    """'3,1' -> [3, 1]: whole days, largest first, no repeats; ValueError with a message."""
    parts = [part for part in DAYS_SPLIT.split(text or "") if part]
    if not parts:
        raise ValueError("请填写天数，多个用逗号分隔，如 3,1")
    try:
        days = sorted({int(part) for part in parts}, reverse=True)
    except ValueError:
        raise ValueError("天数只能是整数，多个用逗号分隔，如 3,1") from None
    return days


class DaysList:
    """A list of whole days within [minimum, maximum] (required)."""

    field_flags = {"required": True}

    def __init__(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, form, field):
        try:
            days = parse_days(field.data)
        except ValueError as error:
            raise ValidationError(str(error))
        if any(day < self.minimum or day > self.maximum for day in days):
            raise ValidationError(f"每个天数应在 {self.minimum} 到 {self.maximum} 之间")
        if len(days) > 10:
            raise ValidationError("最多设置 10 个提醒时间")


class ScheduleFormBase(BaseForm):
    enabled = BooleanField("启用")
    hour = IntegerField(
        "每天执行时间",
        validators=[
            InputRequired(message="请填写执行时间（0-23 点）"),
            NumberRange(min=0, max=23, message="执行时间应在 0 到 23 点之间"),
        ],
        description="点",
    )


def schedule_form_class(kind):
    """A form class with ``enabled``, ``hour`` and one field per declared parameter."""
    fields = {}
    for param in kind.params:
        if param.kind == "days":
            fields[param.name] = StringField(
                param.label,
                validators=[DaysList(param.minimum, param.maximum)],
                description="天",
            )
        else:
            fields[param.name] = IntegerField(
                param.label,
                validators=[
                    InputRequired(message=f"请填写{param.label}"),
                    NumberRange(
                        min=param.minimum,
                        max=param.maximum,
                        message=f"{param.label}应在 {param.minimum} 到 {param.maximum} 之间",
                    ),
                ],
                description="天",
            )
    return type(f"ScheduleForm_{kind.name}", (ScheduleFormBase,), fields)


def form_data(kind, params, enabled):
    """The form's initial values from the stored parameters (a day list as "3,1")."""
    data = {"enabled": enabled, "hour": params.get("hour", kind.default_hour)}
    for param in kind.params:
        value = params.get(param.name, param.default)
        data[param.name] = ",".join(str(v) for v in value) if param.kind == "days" else value
    return data


def form_params(kind, form):
    """The parameters to store from a valid form."""
    params = {"hour": form.hour.data}
    for param in kind.params:
        value = form[param.name].data
        params[param.name] = parse_days(value) if param.kind == "days" else value
    return params
