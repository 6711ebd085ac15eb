"""Reference tables. Records point at rows by id, so a retired entry stays readable."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.cache import REFERENCE, topics
from app.extensions import db


class Region(db.Model):
    """A 市州 (level "city") or 区县 (level "county") with its NBS code."""

    __tablename__ = "region"
    __table_args__ = {"info": topics(REFERENCE)}

    code: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    level: Mapped[str] = mapped_column(sa.String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __repr__(self):
        return f"<Region {self.code} {self.name}>"


class DictItem(db.Model):
    """One entry of an editable list; ``kind`` says which list (字典管理)."""

    __tablename__ = "dict_item"
    __table_args__ = (sa.UniqueConstraint("kind", "name", name="uq_dict_item_kind_name"), {"info": topics(REFERENCE)})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    # 单位性质: the expected first two characters of the 统一社会信用代码.
    code: Mapped[str | None] = mapped_column(sa.String(20))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "dict"}

    def __str__(self):
        return self.name


class UnitNature(DictItem):
    """单位性质."""

    __mapper_args__ = {"polymorphic_identity": "unit_nature"}
    label = "单位性质"


class InstitutionType(DictItem):
    """机构类型."""

    __mapper_args__ = {"polymorphic_identity": "institution_type"}
    label = "机构类型"


class ServiceCategory(DictItem):
    """服务类别: each active one gives a "XXX服务活动数" block in the monthly report."""

    __mapper_args__ = {"polymorphic_identity": "service_category"}
    label = "服务类别"


DICT_KINDS = {
    cls.__mapper_args__["polymorphic_identity"]: cls for cls in (UnitNature, InstitutionType, ServiceCategory)
}


class Platform(db.Model):
    """所属平台 (窗口平台)."""

    __tablename__ = "platform"
    __table_args__ = {"info": topics(REFERENCE)}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    city_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self):
        return self.name
