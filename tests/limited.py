"""A second app with rate limits on, for tests of the limits themselves.

Flask-Limiter reads RATELIMIT_* once, in init_app, and the ``limiter`` object is shared by every
app, so the suite's app (limits off) cannot simply switch them on. ``limited_app`` builds another
app on the same database with limits on, and puts the limiter back as it was when the test ends.
"""

import copy

from app import create_app
from app.extensions import limiter

SHARED_SETTINGS = ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY", "PASSWORD_HASH_METHOD")


def keep_limiter(request):
    """Put the shared limiter back as it is now when the test ends (another create_app rebinds it)."""
    saved = {
        name: copy.copy(value) if isinstance(value, (dict, list, set)) else value
        for name, value in vars(limiter).items()
    }

    def restore():
        vars(limiter).clear()
        vars(limiter).update(saved)

    request.addfinalizer(restore)


def limited_app(app, request, **config):
    """An app like ``app`` with limits on (memory storage unless ``config`` says otherwise)."""
    keep_limiter(request)
    settings = {key: app.config[key] for key in SHARED_SETTINGS}
    settings.update(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "CAPTCHA_TEST_CODE": "TEST",
        }
    )
    settings.update(config)
    return create_app(settings)
