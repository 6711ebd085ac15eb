"""Domain errors a service raises; app/web.py maps them to the error pages, so no service builds an
HTTP response (or calls abort) itself."""


class NotFound(LookupError):
    """What was asked for does not exist, or is not this user's to see (never a hint which): 404."""

    code = 404
