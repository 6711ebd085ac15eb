"""Substring matching for 搜索 and the lists' keyword filters (see the note in services.py)."""

from app.extensions import db


def like_pattern(text):
    """A LIKE pattern for a substring, with the user's % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column, pattern):
    """``column`` contains the LIKE ``pattern``, ignoring the case of Latin letters.

    Chinese has no letter case, so a pattern without cased letters uses plain LIKE: PostgreSQL's
    ILIKE lower-cases every row first (several times slower), SQLite's ILIKE wraps both sides in
    lower(). SQLite's LIKE already ignores ASCII case, so only PostgreSQL needs ILIKE, and its
    pg_trgm indexes serve LIKE and ILIKE alike."""
    if pattern.lower() == pattern.upper() or db.engine.dialect.name == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")
