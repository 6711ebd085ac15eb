"""The reports module's domain error (below services.py and recognitions.py, which both raise it)."""


class ReportError(ValueError):
    """A request about monthly reports cannot be carried out; the message is for the user."""
