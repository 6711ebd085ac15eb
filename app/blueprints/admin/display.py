"""How the admin pages show codes and raw values: labels, browser names, masked SMS text."""

import re

from app.blueprints.auth.models import ROLE_LABELS
from app.modules import wiring
from app.reference.services import region_name

# 操作日志: action codes written with app.audit.audit() (tests/test_audit_labels.py checks that every
# code the app writes has a name, and that no two codes share one); unknown codes show as they are.
# These are the admin module's own; every module declares its labels in its Module (app/modules.py)
# and the pages read the app's merged labels through wiring().
ACTION_LABELS = {
    "account.register": "注册帐户",
    "account.password_reset": "找回密码",
    "account.password_change": "修改密码",
    "account.profile_update": "修改基本资料",
    "account.phone_appeal": "提交手机号变更申诉",
    "user.create_admin": "创建管理员",
    "user.disable": "停用帐户",
    "user.enable": "启用帐户",
    "user.reset_password": "重置密码",
    "session.force_logout": "强制下线",
    "phone_request.approve": "通过手机号变更申诉",
    "phone_request.reject": "驳回手机号变更申诉",
    "dict.create": "新增字典项",
    "dict.update": "修改字典项",
    "dict.retire": "停用字典项",
    "dict.restore": "启用字典项",
    "platform.create": "新增所属平台",
    "platform.update": "修改所属平台",
    "platform.retire": "停用所属平台",
    "platform.restore": "启用所属平台",
    "notice.create": "新建通知公告",
    "notice.update": "修改通知公告",
    "notice.delete": "删除通知公告",
}

TARGET_LABELS = {
    "User": "帐户",
    "PhoneChangeRequest": "手机号变更申诉",
    "Platform": "所属平台",
    "UnitNature": "单位性质",
    "InstitutionType": "机构类型",
    "ServiceCategory": "服务类别",
    "DictItem": "字典项",
    "Notice": "通知公告",
    "Institution": "服务机构",
    "Expert": "服务专家",
    "Enterprise": "企业",
}

# Field names in audit before/after, as the pages label them.
FIELD_LABELS = {
    "username": "帐户名称",
    "display_name": "显示名称",
    "role": "角色",
    "status": "状态",
    "phone": "手机",
    "city_code": "市州",
    "county_code": "区县",
    "name": "名称",
    "code": "代码",
    "sort_order": "排序",
    "active": "启用",
    "must_change_password": "须修改密码",
    "decision_note": "处理意见",
    "session": "会话",
    "uscc": "统一社会信用代码",
    "contact": "联系人",
    "email": "电子邮箱",
    "address": "地址",
    "title": "标题",
}

STATUS_VALUES = {
    "active": "正常",
    "disabled": "已停用",
    "pending": "待审核",
    "approved": "已通过",
    "rejected": "已驳回",
    "open": "在线",
    "forced": "已强退",
}

# 登录日志: detail codes the login service may write; Chinese text passes through.
LOGIN_DETAILS = {
    "ok": "登录成功",
    "success": "登录成功",
    "bad_credentials": "帐户名称或密码错误",
    "bad_password": "密码错误",
    "wrong_password": "密码错误",
    "unknown_user": "帐户不存在",
    "no_such_user": "帐户不存在",
    "locked": "帐户已锁定",
    "disabled": "帐户已停用",
    "captcha": "图形验证码错误",
    "bad_captcha": "图形验证码错误",
}

# Checked in order: several browsers say "Chrome" in their user agent too.
BROWSERS = (
    ("360SE", "360"),
    ("360EE", "360"),
    ("QIHU", "360"),
    ("360Browser", "360"),
    ("QQBrowser", "QQ浏览器"),
    ("MetaSr", "搜狗"),
    ("UBrowser", "UC"),
    ("UCBrowser", "UC"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("Firefox/", "Firefox"),
    ("MSIE", "IE"),
    ("Trident/", "IE"),
    ("HeadlessChrome", "Chrome"),
    ("Chromium", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


def browser_family(user_agent):
    """A short browser name for a user agent string ("Chrome", "Edge", "360" ...)."""
    if not user_agent:
        return "未知"
    for marker, name in BROWSERS:
        if marker in user_agent:
            return name
    if "python" in user_agent.lower() or "curl" in user_agent.lower():
        return "程序"
    return "其他"


def action_label(code):
    return wiring().action_labels.get(code, code)


def target_label(target_type):
    return wiring().target_labels.get(target_type, target_type)


def audit_action_choices(present):
    """The 操作 filter: one entry per name, in name order, for every declared code and every code
    found in the log (a code without a name shows as itself); codes that share a name are one
    entry (its value lists them, joined by ",")."""
    labels = wiring().action_labels
    by_name = {}
    for code in sorted(set(labels) | set(present)):
        by_name.setdefault(labels.get(code, code), []).append(code)
    return sorted(((",".join(codes), name) for name, codes in by_name.items()), key=lambda item: item[1])


def audit_target_choices():
    """The 对象 filter: each kind of object the log names."""
    return sorted(wiring().target_labels.items(), key=lambda item: item[1])


def audit_target(entry):
    """How a log line names its object: 服务机构 长沙示范服务中心 (or #9 for lines before names were kept)."""
    if not entry.target_type:
        return ""
    return f"{target_label(entry.target_type)} {entry.target_name or '#' + entry.target_id}"


def login_detail(detail):
    return LOGIN_DETAILS.get(detail, detail) if detail else ""


def field_label(key):
    return wiring().field_labels.get(key, key)


def field_value(key, value):
    """A before/after value as a person reads it."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role":
        return ROLE_LABELS.get(value, value)
    if key in ("city_code", "county_code"):
        return region_name(value) or value
    if key in ("status", "session"):
        return STATUS_VALUES.get(value, value)
    return value


def audit_rows(entry):
    """(label, before, after, changed) for each field of an audit entry's before/after."""
    before = entry.before or {}
    after = entry.after or {}
    keys = list(before) + [key for key in after if key not in before]
    return [
        (
            field_label(key),
            field_value(key, before.get(key)) if key in before else "—",
            field_value(key, after.get(key)) if key in after else "—",
            before.get(key) != after.get(key),
        )
        for key in keys
    ]


# A run of 4-6 digits on its own; dates (2024-07-08, 2024年) and landlines (0731-...) stay.
CODE_RE = re.compile(r"(?<![0-9A-Za-z\-./])\d{4,6}(?![0-9A-Za-z\-./年月日])")
SECRET_RE = re.compile(r"(密码[:：]\s*)\S+")


def mask_sms(text):
    """Hide verification codes and temporary passwords: admins must not read live secrets."""
    text = SECRET_RE.sub(lambda m: m.group(1) + "********", text)
    return CODE_RE.sub(lambda m: "*" * len(m.group(0)), text)


def user_name(user):
    """名称: the organisation or person behind an account, else its display name."""
    profile = user.profile
    return profile.name if profile is not None else (user.display_name or user.username)


def user_region(user):
    """所在地区: the profile's 市州 and 区县; a city admin's 市州; 全省 for a province admin."""
    profile = user.profile
    if profile is not None:
        return profile.region_label
    if user.role == "province_admin":
        return "全省"
    return region_name(user.city_code)


def file_size(size):
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
