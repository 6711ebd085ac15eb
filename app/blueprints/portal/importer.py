"""核心服务机构名单导入: a province admin loads the current list (e.g. 2023-2026) from Excel.

Two steps. ``import_start`` keeps the uploaded sheet under UPLOAD_DIR/imports (a random token
names it); ``import_plan`` reads it and says, row by row, what would happen and why (预览: nothing
is written); ``import_commit`` reads it again against the database as it is then, writes every
row that can be written in one transaction, and removes the sheet.

Per row: an unknown 统一社会信用代码 creates an institution account (帐户名称 = the code unless the
sheet names one; a random initial password nobody knows and must_change_password, so the
institution sets its own through 忘记密码 with the bound mobile, or an admin resets it) and a
direct Recognition (application_id None); a known institution gets the Recognition only; a
recognition with the same term is skipped; anything wrong refuses the row with the reason.
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from io import BytesIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as stdnum_uscc
from werkzeug.security import generate_password_hash

from app.audit import audit
from app.blueprints.applications.models import Recognition
from app.blueprints.auth.models import Enterprise, Institution, User
from app.extensions import db
from app.forms import LANDLINE_RE, MOBILE_RE, is_mobile
from app.reference.models import InstitutionType, Platform, Region, ServiceCategory, UnitNature
from app.sms import send_sms
from app.spreadsheets import xlsx_problem, xlsx_workbook, xlsxwriter_cell
from app.upload_modes import PRIVATE, make_folder, open_new_file
from app.utils import local_today

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 3000
# Sheet lines read at most, blank ones included (a zip bomb of a million blank rows is refused
# before openpyxl opens it: app/spreadsheets.xlsx_problem; and again as the rows are read).
MAX_LINES = 5000
NOT_A_WORKBOOK = "无法读取该文件，请确认是用 Excel 或 WPS 保存的 .xlsx 文件。"
TOO_LONG = f"表格超过 {MAX_LINES} 行，请删除空行或分成几个文件导入（一次最多导入 {MAX_ROWS} 行）。"
KEEP_SECONDS = 24 * 3600
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
TERM_RE = re.compile(r"^\s*(\d{4})\s*年?\s*[-—–~～至到]+\s*(\d{4})\s*年?\s*$")
SPLIT_RE = re.compile(r"[、,，;；/\s]+")
USERNAME_RE = re.compile(r"^[A-Za-z0-9@._-]{4,60}$")

# column -> the headings accepted for it (the first is the one the template uses)
COLUMNS = {
    "name": ("机构名称", "单位名称"),
    "uscc": ("统一社会信用代码", "机构代码", "信用代码", "社会信用代码"),
    "city": ("所在市州", "市州"),
    "county": ("所在区县", "区县"),
    "type": ("机构类型",),
    "contact": ("联系人",),
    "phone": ("电话", "联系电话", "手机", "手机号码"),
    "term": ("认定期限", "认定有效期", "有效期"),
    "categories": ("服务类别",),
    "unit_nature": ("单位性质",),
    "platform": ("所属平台",),
    "username": ("帐户名称", "账户名称"),
}
REQUIRED_COLUMNS = ("name", "uscc", "city", "term")
TEMPLATE_COLUMNS = (
    "name",
    "uscc",
    "city",
    "county",
    "type",
    "contact",
    "phone",
    "term",
    "categories",
    "unit_nature",
    "platform",
    "username",
)
OUTCOMES = {
    "create": "新建帐户并认定",
    "recognise": "已有帐户，新增认定",
    "skip": "已在名单中，跳过",
    "refuse": "不导入",
}
# 单位性质 from the first two characters of the 统一社会信用代码 when the sheet does not say
NATURE_BY_PREFIX = {"91": "企业", "12": "事业单位", "51": "社会团体", "92": "个体工商户", "52": "民办非企业"}


class SheetError(ValueError):
    """The sheet as a whole cannot be used; the message is for the user."""


@dataclass
class Row:
    line: int  # the Excel row number
    name: str = ""
    uscc: str = ""
    city: str = ""
    term: str = ""
    contact: str = ""
    phone: str = ""
    outcome: str = "refuse"
    reasons: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    resolved: dict = field(default_factory=dict)

    @property
    def outcome_label(self):
        return OUTCOMES[self.outcome]


@dataclass
class Plan:
    rows: list

    def count(self, outcome):
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self):
        return {outcome: self.count(outcome) for outcome in OUTCOMES}

    @property
    def writable(self):
        return self.count("create") + self.count("recognise")


@dataclass
class Result:
    created: int = 0
    recognised: int = 0
    skipped: int = 0
    refused: int = 0
    texted: int = 0
    not_texted: list = field(default_factory=list)  # (name, username) of new accounts without a mobile


# ---- the stored sheet ----------------------------------------------------------------------


def _folder():
    # never downloaded: owner-only whatever UPLOAD_GROUP says, in UPLOAD_DIR made by its rule
    return make_folder(make_folder(current_app.config["UPLOAD_DIR"]) / "imports", PRIVATE)


def _path(token):
    if not token or not TOKEN_RE.match(token):
        return None
    path = _folder() / f"{token}.xlsx"
    return path if path.exists() else None


def import_start(*, file_storage):
    """Keep an uploaded .xlsx (≤ 5 MB) for the preview; returns its token. Raises SheetError."""
    folder = _folder()
    for old in folder.glob("*.xlsx"):  # sheets nobody committed or discarded
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    path = folder / f"{token}.xlsx"
    size = 0
    try:
        with open_new_file(path, PRIVATE) as out:
            while chunk := file_storage.stream.read(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise SheetError("文件超过 5MB。名单表格通常很小，请删除图片等内容后再导入。")
                out.write(chunk)
        if size == 0:
            raise SheetError("文件是空的，请重新选择。")
        _read(path)  # a sheet that cannot be read is refused now, not at the preview
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return token


def import_discard(*, token):
    path = _path(token)
    if path is not None:
        path.unlink(missing_ok=True)


# ---- reading -------------------------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def _heading(value):
    return re.sub(r"[\s*＊:：（）()]", "", _text(value))


def _read(path):
    """[(line, {column: text})] of the first sheet's data rows. Raises SheetError."""
    from openpyxl import load_workbook  # lazy: ~60 ms at every worker's start, for the 名单导入 alone

    problem = xlsx_problem(path, max_rows=MAX_LINES, too_many_rows=TOO_LONG, unreadable=NOT_A_WORKBOOK)
    if problem:
        raise SheetError(problem)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is not a workbook
        raise SheetError(NOT_A_WORKBOOK) from error
    try:
        sheet = workbook.worksheets[0]
        if (sheet.max_row or 0) > MAX_LINES:  # the sheet's own <dimension>, when it has one
            raise SheetError(TOO_LONG)
        rows = sheet.iter_rows(values_only=True)
        headings = None
        for line, values in enumerate(rows, start=1):
            if line > MAX_LINES:  # empty rows too: a sheet of a million blank rows is refused quickly
                raise SheetError(TOO_LONG)
            names = [_heading(v) for v in values]
            if headings is None:
                if line > 10:
                    break
                found = {}
                for index, name in enumerate(names):
                    for column, aliases in COLUMNS.items():
                        if name in aliases and column not in found:
                            found[column] = index
                if "name" in found and "uscc" in found:
                    missing = [COLUMNS[c][0] for c in REQUIRED_COLUMNS if c not in found]
                    if missing:
                        raise SheetError(f"表格缺少“{'”“'.join(missing)}”列，请按导入模板填写。")
                    headings, data = found, []
                continue
            record = {column: _text(values[index]) if index < len(values) else "" for column, index in headings.items()}
            if not any(record.values()):
                continue
            data.append((line, record))
            if len(data) > MAX_ROWS:
                raise SheetError(f"一次最多导入 {MAX_ROWS} 行，请分成几个文件导入。")
        if headings is None:
            raise SheetError(
                "在前 10 行中没有找到表头（至少需要“机构名称”和“统一社会信用代码”两列），请按导入模板填写。"
            )
        if not data:
            raise SheetError("表格中没有数据行。")
        return data
    finally:
        workbook.close()


# ---- the plan --------------------------------------------------------------------------------


class _Lookups:
    """Reference data and the database's existing accounts for the codes in the sheet, loaded
    in a handful of queries however long the sheet is."""

    def __init__(self, records):
        regions = db.session.scalars(sa.select(Region)).all()
        self.cities = [r for r in regions if r.level == "city"]
        self.counties = {}
        for region in regions:
            if region.level == "county":
                self.counties.setdefault(region.parent_code, []).append(region)
        self.types = {t.name: t for t in db.session.scalars(sa.select(InstitutionType))}
        self.categories = {c.name: c for c in db.session.scalars(sa.select(ServiceCategory))}
        self.natures = {n.name: n for n in db.session.scalars(sa.select(UnitNature))}
        self.platforms = db.session.scalars(sa.select(Platform)).all()
        codes = {r["uscc"].upper().replace(" ", "") for _, r in records if r.get("uscc")}
        self.institutions = (
            {i.uscc: i for i in db.session.scalars(sa.select(Institution).where(Institution.uscc.in_(codes)))}
            if codes
            else {}
        )
        self.enterprises = (
            set(db.session.scalars(sa.select(Enterprise.uscc).where(Enterprise.uscc.in_(codes)))) if codes else set()
        )
        ids = [i.id for i in self.institutions.values()]
        self.terms = {}
        if ids:
            for rec in db.session.scalars(
                sa.select(Recognition).where(Recognition.institution_id.in_(ids), Recognition.revoked_at.is_(None))
            ):
                self.terms.setdefault(rec.institution_id, set()).add((rec.term_start, rec.term_end))
        names = {(r.get("username") or r.get("uscc") or "").strip().lower() for _, r in records}
        self.usernames = (
            set(db.session.scalars(sa.select(User.username_key).where(User.username_key.in_(names))))
            if names
            else set()
        )

    @staticmethod
    def _match(items, text, name=lambda item: item.name):
        """Exact name, else the only one whose name starts with the text (长沙 -> 长沙市)."""
        exact = [item for item in items if name(item) == text]
        if exact:
            return exact[0]
        starting = [item for item in items if name(item).startswith(text)]
        return starting[0] if len(starting) == 1 else None

    def city(self, text):
        return self._match(self.cities, text) if text else None

    def county(self, city_code, text):
        return self._match(self.counties.get(city_code, []), text) if text else None

    def category(self, text):
        return self.categories.get(text) or self.categories.get(text + "服务")

    def platform(self, text, city_code):
        if text:
            return self._match(self.platforms, text)
        by_city = [p for p in self.platforms if p.city_code == city_code and p.active]
        return by_city[0] if by_city else next((p for p in self.platforms if p.city_code is None and p.active), None)


def _check(line, record, lookups, seen_codes, seen_names):
    row = Row(
        line,
        name=record.get("name", ""),
        uscc=record.get("uscc", "").upper().replace(" ", ""),
        city=record.get("city", ""),
        term=record.get("term", ""),
        contact=record.get("contact", ""),
        phone=record.get("phone", ""),
    )
    refuse, resolved = row.reasons.append, row.resolved
    if not row.name:
        refuse("机构名称未填写")
    elif len(row.name) > 120:
        refuse("机构名称超过 120 字")
    if not row.uscc:
        refuse("统一社会信用代码未填写")
    elif not stdnum_uscc.is_valid(row.uscc):
        refuse("统一社会信用代码不正确（应为 18 位，校验位须相符）")
    elif row.uscc in seen_codes:
        refuse(f"与第 {seen_codes[row.uscc]} 行的统一社会信用代码重复")
    else:
        seen_codes[row.uscc] = line
    city = lookups.city(row.city)
    if city is None:
        refuse(f"所在市州“{row.city}”不是湖南省的市州" if row.city else "所在市州未填写")
    else:
        resolved["city_code"] = city.code
        row.city = city.name
        county_text = record.get("county", "")
        county = lookups.county(city.code, county_text)
        if county_text and county is None:
            refuse(f"所在区县“{county_text}”不属于{city.name}")
        resolved["county_code"] = county.code if county else None
    match = TERM_RE.match(row.term)
    if not match:
        refuse(f"认定期限“{row.term}”应写成 2023-2026" if row.term else "认定期限未填写")
    else:
        start, end = int(match.group(1)), int(match.group(2))
        if not (2000 <= start < end <= start + 10):
            refuse(f"认定期限“{row.term}”不合理（起始年应早于截止年，跨度不超过 10 年）")
        else:
            resolved["term"] = (start, end)
            row.term = f"{start}-{end}"
    type_text = record.get("type", "")
    institution_type = lookups.types.get(type_text) if type_text else None
    if type_text and institution_type is None:
        refuse(f"机构类型“{type_text}”应为：{'、'.join(lookups.types)}")
    resolved["type_id"] = institution_type.id if institution_type else None
    categories, unknown = [], []
    for part in SPLIT_RE.split(record.get("categories", "")):
        if part:
            category = lookups.category(part)
            (categories.append(category.id) if category else unknown.append(part))
    if unknown:
        refuse(f"服务类别“{'、'.join(unknown)}”不在服务类别列表中")
    resolved["category_ids"] = list(dict.fromkeys(categories))

    if row.uscc in lookups.enterprises:
        refuse("该统一社会信用代码已注册为企业帐户，请先联系技术人员处理")
    existing = lookups.institutions.get(row.uscc)
    if existing is not None:
        resolved["institution_id"] = existing.id
        if existing.name != row.name and row.name:
            row.notes.append(f"系统中的机构名称为“{existing.name}”，以系统为准")
        if row.reasons:
            return row
        if resolved["term"] in lookups.terms.get(existing.id, set()):
            row.outcome = "skip"
            row.notes.append(f"已认定 {row.term}，不重复导入")
        else:
            row.outcome = "recognise"
            row.notes.append(f"新增认定 {row.term}；联系人、电话等以机构基本资料为准")
        return row
    _check_new_account(row, record, lookups, seen_names)
    if not row.reasons:
        row.outcome = "create"
        row.notes.append(
            f"帐户名称 {row.resolved['username']}"
            + ("，开通短信发送至该手机" if is_mobile(row.phone) else "，电话非手机号，须由管理员重置密码后告知")
        )
    return row


def _check_new_account(row, record, lookups, seen_names):
    refuse, resolved = row.reasons.append, row.resolved
    if not row.contact:
        refuse("新建帐户须填写联系人")
    elif len(row.contact) > 40:
        refuse("联系人超过 40 字")
    if not row.phone:
        refuse("新建帐户须填写电话")
    elif not (MOBILE_RE.match(row.phone) or LANDLINE_RE.match(row.phone)):
        refuse(f"电话“{row.phone}”应为手机号码或带区号的固定电话")
    nature_text = record.get("unit_nature", "") or NATURE_BY_PREFIX.get(row.uscc[:2], "")
    nature = lookups.natures.get(nature_text)
    if nature is None:
        refuse(
            f"单位性质“{nature_text}”不在列表中" if nature_text else "无法按信用代码判断单位性质，请填写“单位性质”列"
        )
    else:
        resolved["unit_nature_id"] = nature.id
    platform = lookups.platform(record.get("platform", ""), resolved.get("city_code"))
    if platform is None:
        refuse(f"所属平台“{record.get('platform', '')}”不在所属平台列表中")
    else:
        resolved["platform_id"] = platform.id
    username = record.get("username", "") or row.uscc
    key = username.lower()
    if not USERNAME_RE.match(username):
        refuse(f"帐户名称“{username}”应为 4-60 位字母、数字或 @ . _ - 符号")
    elif key in lookups.usernames:
        refuse(f"帐户名称“{username}”已被其他帐户使用，请在“帐户名称”列另填一个")
    elif key in seen_names:
        refuse(f"帐户名称“{username}”与第 {seen_names[key]} 行重复")
    else:
        seen_names[key] = row.line
        resolved["username"] = username


def import_plan(*, token):
    """What committing the stored sheet would do, row by row (writes nothing). None when the
    sheet is gone (committed, discarded or expired). Raises SheetError."""
    path = _path(token)
    if path is None:
        return None
    records = _read(path)
    lookups = _Lookups(records)
    seen_codes, seen_names = {}, {}
    return Plan([_check(line, record, lookups, seen_codes, seen_names) for line, record in records])


# ---- commit --------------------------------------------------------------------------------

ACCOUNT_SMS = (
    "【湖南省中小企业服务中心】已为“{name}”开通核心服务机构调度管理系统帐户，帐户名称：{username}。"
    "请在登录页点击“忘记密码”，用本手机号设置密码后登录。"
)


def _initial_password_hash():
    # A 192-bit random secret nobody is told: the work factor that protects chosen passwords
    # adds nothing here, and a cheap hash keeps a 500-row import within one request.
    return generate_password_hash(secrets.token_urlsafe(24), method="pbkdf2:sha256:1000")


def _create(row, actor):
    data = row.resolved
    user = User(
        username=data["username"],
        role="institution",
        phone=row.phone,
        city_code=data["city_code"],
        display_name=row.name,
        must_change_password=True,
    )
    user.password_hash = _initial_password_hash()
    institution = Institution(
        user=user,
        name=row.name,
        uscc=row.uscc,
        unit_nature_id=data["unit_nature_id"],
        platform_id=data["platform_id"],
        institution_type_id=data["type_id"],
        contact=row.contact,
        phone=row.phone,
        city_code=data["city_code"],
        county_code=data["county_code"],
    )
    if data["category_ids"]:
        institution.service_categories = db.session.scalars(
            sa.select(ServiceCategory).where(ServiceCategory.id.in_(data["category_ids"]))
        ).all()
    db.session.add_all([user, institution])
    db.session.flush()
    audit(
        "institution.import",
        summary=f"导入名单新建服务机构帐户：{row.name}（{row.uscc}），帐户名称 {user.username}",
        target=user,
        after={"username": user.username, "name": row.name, "uscc": row.uscc, "must_change_password": True},
        actor=actor,
    )
    return institution


def import_commit(*, token, actor, progress=None):
    """Write every row the plan can write, in one transaction; remove the sheet. Returns a
    Result, or None when the sheet is gone. Raises SheetError. (Run as a job: portal/jobs.py.)"""
    plan = import_plan(token=token)
    if plan is None:
        return None
    result = Result(skipped=plan.count("skip"), refused=plan.count("refuse"))
    for number, row in enumerate(plan.rows, start=1):
        if progress is not None:
            progress(number, len(plan.rows), f"已处理 {number} / {len(plan.rows)} 行")
        if row.outcome not in ("create", "recognise"):
            continue
        if row.outcome == "create":
            institution = _create(row, actor)
            result.created += 1
            if is_mobile(row.phone):
                send_sms(row.phone, ACCOUNT_SMS.format(name=row.name, username=institution.user.username))
                result.texted += 1
            else:
                result.not_texted.append((row.name, institution.user.username))
        else:
            institution = db.session.get(Institution, row.resolved["institution_id"])
            result.recognised += 1
        start, end = row.resolved["term"]
        recognition = Recognition(
            institution_id=institution.id,
            application_id=None,
            term_start=start,
            term_end=end,
            effective_on=local_today(),  # from the day of the import: earlier months' 应报 stay as they were
            created_by_id=actor.id,
        )
        db.session.add(recognition)
        audit(
            "recognition.import",
            summary=f"导入名单认定核心服务机构：{institution.name}（{start}-{end}）",
            target=institution,
            after={"term": f"{start}-{end}", "effective_on": recognition.effective_on.isoformat()},
            actor=actor,
        )
    audit(
        "directory.import",
        summary=(
            f"导入核心服务机构名单：新建帐户 {result.created} 个，已有帐户新增认定 {result.recognised} 家，"
            f"跳过 {result.skipped} 行，不导入 {result.refused} 行"
        ),
        actor=actor,
        after={
            "created": result.created,
            "recognised": result.recognised,
            "skipped": result.skipped,
            "refused": result.refused,
        },
    )
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise SheetError("导入未完成：导入期间有帐户被注册或修改，请重新预览后再导入。") from error
    import_discard(token=token)
    return result


# ---- the template ----------------------------------------------------------------------------


def import_template_xlsx():
    """核心服务机构名单导入模板.xlsx: the headings, and a sheet explaining each column."""
    buffer = BytesIO()
    workbook = xlsx_workbook(buffer)
    sheet = workbook.add_worksheet("核心服务机构名单")
    heading, required = (
        workbook.add_format({"bold": True}),
        workbook.add_format({"bold": True, "font_color": "#C62828"}),
    )
    widths = {"name": 34, "uscc": 24, "categories": 30, "platform": 30, "username": 24}
    for index, column in enumerate(TEMPLATE_COLUMNS):
        xlsxwriter_cell(sheet, 0, index, COLUMNS[column][0], required if column in REQUIRED_COLUMNS else heading)
        sheet.set_column(index, index, widths.get(column, 14))
    sheet.freeze_panes(1, 0)
    notes = workbook.add_worksheet("填写说明")
    for number, line in enumerate(
        (
            "红色表头为必填列；新建帐户（系统中尚无该统一社会信用代码）时，联系人和电话也必须填写。",
            "所在市州：如 长沙市（也可写 长沙）；所在区县：须属于所在市州，可不填。",
            "机构类型：综合服务机构 或 专业服务机构，可不填。",
            "认定期限：如 2023-2026。",
            "服务类别：多个用顿号分隔，如 政策服务、融资服务，须为字典管理中的服务类别。",
            "单位性质：可不填，按统一社会信用代码前两位判断（91 企业、12 事业单位、51 社会团体、92 个体工商户、52 民办非企业）。",
            "所属平台：可不填，默认为所在市州的中小企业公共服务平台。",
            "帐户名称：可不填，默认使用统一社会信用代码。新帐户的初始密码随机生成，机构用绑定手机在登录页“忘记密码”设置密码。",
            "导入前系统先预览每一行将如何处理及原因，确认后才写入。",
        )
    ):
        xlsxwriter_cell(notes, number, 0, line)
    notes.set_column(0, 0, 110)
    workbook.close()
    return buffer.getvalue()
