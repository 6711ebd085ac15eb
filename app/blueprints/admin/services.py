"""System administration rules: accounts, dictionaries, platforms, phone-change appeals."""
import sqlalchemy as sa

from app.audit import audit
from app.blueprints.auth.models import User
from app.extensions import db
from app.passwords import password_problem
from app.reference.models import Region


class AdminError(ValueError):
    """A request an admin made cannot be carried out; the message is for the user."""


def admin_create(*, username, password, role, city_code=None, phone=None, display_name="", actor=None):
    """Create a province or city admin account. Commits."""
    if role not in ("province_admin", "city_admin"):
        raise AdminError("管理员角色只能是 province 或 city。")
    if role == "city_admin":
        region = db.session.get(Region, city_code) if city_code else None
        if region is None or region.level != "city":
            raise AdminError("市州管理员必须指定所属市州。")
    else:
        city_code = None
    if db.session.scalar(sa.select(User.id).where(User.username_key == username.strip().lower())):
        raise AdminError("该帐户名称已被使用。")
    problem = password_problem(password, username=username)
    if problem:
        raise AdminError(problem)
    user = User(username=username, role=role, city_code=city_code, phone=phone, display_name=display_name or username)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user.create_admin", summary=f"创建管理员 {username}", target=user, after={"role": role, "city_code": city_code}, actor=actor)
    db.session.commit()
    return user
