"""Password policy: at least 8 characters with letters and digits, and not a common password.

The common passwords are the 100,000 most common ones of a public list counted over about a billion
leaked credentials (``reference/common-passwords-100k.txt``, see its .LICENSE file) plus a short local
list of passwords common in China (``reference/common-passwords.txt``).
"""

import re
from functools import lru_cache
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference"
COMMON_LISTS = (REFERENCE / "common-passwords-100k.txt", REFERENCE / "common-passwords.txt")

MIN_LENGTH, MAX_LENGTH = 8, 64
_LETTER, _DIGIT = re.compile(r"[A-Za-z]"), re.compile(r"\d")


def _passes_rules(password):
    return (
        MIN_LENGTH <= len(password) <= MAX_LENGTH and bool(_LETTER.search(password)) and bool(_DIGIT.search(password))
    )


@lru_cache(maxsize=1)
def common_passwords():
    """The common passwords, lower-cased, built once per process on first use.

    Only entries that the length and letters-and-digits rules would let through are kept: the
    others are refused before the list is consulted, and leaving them out keeps the set about a
    quarter of the list's size (it costs each worker a few MB instead of about ten)."""
    entries = set()
    for path in COMMON_LISTS:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                entry = line.strip().lower()
                if entry and _passes_rules(entry):
                    entries.add(entry)
    return frozenset(entries)


def password_problem(password, *, username=None):
    """A message saying what is wrong with ``password``, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "密码至少 8 位。"
    if len(password) > MAX_LENGTH:
        return "密码不能超过 64 位。"
    if not _LETTER.search(password) or not _DIGIT.search(password):
        return "密码须同时包含字母和数字。"
    if password.lower() in common_passwords():
        return "该密码过于常见，容易被猜中，请换一个。"
    if username and username.lower() in password.lower():
        return "密码不能包含帐户名称。"
    return None
