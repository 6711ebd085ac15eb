"""Bounds on what a request can carry, so malformed input gets 400/404 and never reaches the database.

- ``IdConverter`` replaces Flask's ``int`` URL converter: an id past the database's integer range
  (``/notices/99999999999999999999``) is simply not a matching URL (404), on SQLite and PostgreSQL.
- ``db_int`` / ``year_int`` are the ``type=`` for ``request.args.get``: a value that is not a
  whole number in range (20 digits, "²", "1e5") makes ``get`` return its default, as for any
  other unreadable value.
- ``refuse_nul`` answers 400 to a request with a NUL byte in its query string, form, file names
  or path: PostgreSQL cannot store NUL in text, and no one types it.
"""

import re

from flask import abort, request
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1  # PostgreSQL's integer (ids are INTEGER on both databases)
YEAR_MIN, YEAR_MAX = 2000, 2100  # the years rounds and reports can have (as the forms allow)
_INTEGER_RE = re.compile(r"[+-]?\d+")  # \d: any decimal digit int() reads; not "²", not "1_000"


class IdConverter(IntegerConverter):
    """``<int:...>`` for ids: 1 to 2**31-1, anything else does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=1, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def install_converters(app):
    """Make ``<int:...>`` bounded; call before any blueprint is registered (rules bind converters when added)."""
    app.url_map.converters["int"] = IdConverter


def db_int(value):
    """A whole number that fits the database's integer; ValueError otherwise (``type=`` for MultiDict.get)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and not _INTEGER_RE.fullmatch(text):
        raise ValueError(f"not a whole number: {value!r}")
    number = int(text)
    if not -DB_INT_MAX <= number <= DB_INT_MAX:
        raise ValueError(f"out of range: {value!r}")
    return number


def year_int(value):
    """A year from 2000 to 2100; ValueError otherwise (``type=`` for MultiDict.get)."""
    year = db_int(value)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError(f"not a year: {value!r}")
    return year


def _texts(multidict, *, files=False):
    """Every key and value (for files, every file name) of a MultiDict."""
    for key, values in multidict.lists():
        yield key
        for value in values:
            yield value.filename if files else value


def refuse_nul():
    """before_request hook: 400 (the Chinese error page) for a NUL byte anywhere in the input."""
    texts = (request.path, *_texts(request.args), *_texts(request.form), *_texts(request.files, files=True))
    if any("\x00" in text for text in texts if isinstance(text, str)):
        abort(400)
