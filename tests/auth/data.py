"""Form data for the auth tests: valid by default, override any field."""

import re

import sqlalchemy as sa
from stdnum.cn import uscc

from app.extensions import db
from app.reference.models import Platform, ServiceCategory, UnitNature
from tests import sms_capture

NEW_PASSWORD = "Fresh2026pass"


def code_with_check_digit(body17):
    return body17 + uscc.calc_check_digit(body17)


def unit_id(name="企业"):
    return db.session.scalar(sa.select(UnitNature.id).where(UnitNature.name == name))


def platform_id():
    return db.session.scalar(sa.select(Platform.id).order_by(Platform.sort_order, Platform.id))


def category_id(name="融资服务"):
    return db.session.scalar(sa.select(ServiceCategory.id).where(ServiceCategory.name == name))


def institution_form(**over):
    data = {
        "username": "neworg@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "unit_nature_id": str(unit_id()),
        "platform_id": str(platform_id()),
        "name": "湖南新星企业服务有限公司",
        "uscc": code_with_check_digit("91430100MA9000001"),
        "contact": "张三",
        "phone": "0731-88886666",
        "mobile": "13800001111",  # 电话 is a landline: the mobile for SMS codes is asked for beside it
        "city_code": "430100",
        "county_code": "430102",
    }
    data.update(over)
    return data


def expert_form(**over):
    data = {
        "username": "newexpert@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "name": "刘洋",
        "gender": "男",
        "birth_month": "1980-05",
        "employer": "中南大学",
        "title": "教授",
        "category_id": str(category_id()),
        "phone": "13912345678",
        "city_code": "430100",
        "county_code": "430104",
        "bio": "从事中小企业数字化转型研究二十年。",
    }
    data.update(over)
    return data


def enterprise_form(**over):
    data = {
        "username": "newfirm@example.com",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "name": "长沙新创科技有限公司",
        "uscc": code_with_check_digit("91430100MA9000002"),
        "contact": "李四",
        "phone": "13812345678",
        "city_code": "430100",
        "county_code": "430103",
    }
    data.update(over)
    return data


def last_sms_code(phone):
    """The code from the newest SMS to ``phone`` (stored masked; the outbox's log line has it)."""
    texts = sms_capture.delivered(phone)
    text = texts[-1] if texts else None
    match = re.search(r"验证码 (\d{6})", text or "")
    return match.group(1) if match else None
