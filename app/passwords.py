"""Password policy: at least 8 characters with letters and digits, and not a common password."""
import re
from functools import lru_cache
from pathlib import Path

COMMON = Path(__file__).parent / "reference" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords():
    return frozenset(line.strip().lower() for line in COMMON.read_text(encoding="utf-8").splitlines() if line.strip())


def password_problem(password, *, username=None):
    """A message saying what is wrong with ``password``, or None when it is acceptable."""
    if len(password) < 8:
        return "密码至少 8 位。"
    if len(password) > 64:
        return "密码不能超过 64 位。"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "密码须同时包含字母和数字。"
    if password.lower() in common_passwords():
        return "该密码过于常见，容易被猜中，请换一个。"
    if username and username.lower() in password.lower():
        return "密码不能包含帐户名称。"
    return None
