"""WTForms' attribute rendering, made cheap.

``wtforms.widgets.core.html_params`` writes every attribute through ``Markup.format`` (Python's
``string.Formatter`` with an escaping formatter), about 45 µs per input; a monthly report's step
page has about 60 inputs, so a fifth of the page's render time went there. ``html_params`` below
gives the same output, byte for byte, in about 9 µs. ``install`` (called once by create_app) puts it
where WTForms looks it up: the module function the Select, TextArea and table widgets call, the
package's name that labels call, and the ``Input`` and ``Button`` widgets' static method. tests/test_widgets.py checks it against WTForms' own
function, so a WTForms upgrade that changes the rule fails there.
"""

import re

import wtforms.widgets
from markupsafe import Markup, escape
from wtforms.fields.core import Field
from wtforms.meta import DefaultMeta
from wtforms.widgets import core

_NEEDS_ESCAPE = re.compile("[&<>\"']").search


def _text(value):
    """``str(escape(value))``, without building a Markup for the usual case: plain text with nothing
    to escape (an id, a label, a number); a step page writes about 700 such values."""
    kind = type(value)
    if kind is str:
        return value if _NEEDS_ESCAPE(value) is None else str(escape(value))
    if kind is int:
        return str(value)
    return str(escape(value))


def html_params(**kwargs):
    """HTML attributes from keyword arguments, as ``wtforms.widgets.core.html_params`` writes them:
    sorted by key, ``class_``/``for_`` without the underscore, ``data_``/``aria_`` with hyphens,
    ``True`` as a bare attribute, ``False`` left out, values escaped with ``"`` as ``&quot;``."""
    params = []
    for key, value in sorted(kwargs.items()):
        name = _NAMES.get(key)
        if name is None:
            name = str(escape(core.clean_key(key)))
            if len(_NAMES) < NAMES_MAX:
                _NAMES[key] = name
        if value is True:
            params.append(name)
        elif value is not False:
            params.append(f'{name}="{_text(value).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


_NAMES = {}  # keyword -> attribute name as written (the widgets' and forms' keywords: a few dozen)
NAMES_MAX = 512


ORIGINAL = core.html_params  # WTForms' own, the reference the tests compare with


def install():
    """Make WTForms' widgets render attributes with ``html_params`` (idempotent)."""
    core.html_params = html_params
    wtforms.widgets.html_params = html_params
    for widget in (core.Input, core.Button):
        widget.html_params = staticmethod(html_params)


# ---- an input, without the trip through the field's meta and widget --------------------------------


def _plain_input(field):
    """Whether ``field()`` is WTForms' own chain to an ``Input`` widget: Field.__call__ ->
    DefaultMeta.render_field -> Input.__call__ (no subclass changes any of them)."""
    kind = type(field)
    return (
        kind.__call__ is Field.__call__
        and type(field.meta).render_field is DefaultMeta.render_field
        and isinstance(field.widget, core.Input)
        and type(field.widget).__call__ is core.Input.__call__
    )


def render_input(field, attrs):
    """``field(**attrs)`` for a field whose chain is WTForms' own (``_plain_input``), written in
    one step: the same attributes (the field's ``render_kw`` under the caller's, its id, type,
    value, datalist and validation flags) and so the same markup, at about a third of the cost (a
    monthly report's step page has about 60 inputs). tests/test_widgets.py compares the two."""
    if not _plain_input(field):
        return field(**attrs)
    kwargs = {core.clean_key(k): v for k, v in attrs.items()}
    if field.render_kw:
        kwargs = dict({core.clean_key(k): v for k, v in field.render_kw.items()}, **kwargs)
    widget = field.widget
    kwargs.setdefault("id", field.id)
    kwargs.setdefault("type", widget.input_type)
    if "value" not in kwargs:
        kwargs["value"] = field._value()
    datalist = getattr(field, "_datalist", None)
    if datalist is not None and "list" not in kwargs:
        kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
    flags = vars(field.flags)  # what dir(flags) lists of the widget's validation attributes
    for k in widget.validation_attrs:
        if k in flags and k not in kwargs:
            value = flags[k]
            kwargs[k] = value() if callable(value) else value
    return Markup(f"<input {html_params(name=field.name, **kwargs)}>")


# ---- a form field, whole --------------------------------------------------------------------------

GROUP_TYPES = ("RadioField", "MultiCheckboxField")
REQUIRED_MARK = Markup('<span class="req" aria-hidden="true">*</span>')


def _lower_limit(field):
    """The lower length limit the field's validators check (CharCount's ``minimum``, Length's ``min``)."""
    low = 0
    for validator in field.validators:
        if getattr(validator, "minimum", None):
            low = validator.minimum
        elif getattr(validator, "min", None) and validator.min > 0:
            low = validator.min
    return low


def field_html(
    f,
    unit=None,
    hint=None,
    placeholder=None,
    wide=False,
    counter=None,
    label=None,
    required=None,
    warnings=None,
    pinned=False,
):
    """One form field with its label, required mark, unit, hint, reviewer's mark, errors and warnings:
    what the templates' ``field`` (``field_macro`` below, set in _macros/forms.html) writes; a
    monthly report's step has about 60 fields, and the same markup built in Jinja cost about 40 µs
    each. tests/test_widgets.py renders the original Jinja macro beside it, byte for byte."""
    fid = _text(f.id)
    is_required = required if required is not None else f.flags.required
    unit = unit or f.description
    errors = f.errors
    described = []
    if hint:
        described.append(f"{f.id}-hint")
    described += [f"{f.id}-error-{n}" for n in range(1, len(errors) + 1)]
    described += [f"{f.id}-warning-{n}" for n in range(1, len(warnings or ()) + 1)]
    group = f.type in GROUP_TYPES
    tag = "fieldset" if group else "div"
    classes = "field" + (" choices" if group else "") + (" has-error" if errors else "")
    classes += (" wide" if wide else "") + (" pinned" if pinned else "")
    out = [f'<{tag} class="{classes}" id="field-{fid}"']
    if group and described:
        out.append(f' aria-describedby="{_text(" ".join(described))}"')
    out.append(">\n")
    text = _text(label or f.label.text)
    mark = REQUIRED_MARK if is_required else ""
    if f.type == "BooleanField":
        attrs = {"aria-describedby": " ".join(described)} if described else {}
        out.append(f'  <label class="check">{render_input(f, attrs)} {text}</label>\n')
    elif group:
        out.append(f"  <legend>{mark}{text}</legend>\n")
        out.append(f'  <div class="control">\n    <span class="radios" id="{fid}">\n')
        attrs = {"aria-invalid": "true"} if errors else {}
        out += [f'<label class="radio">{option(**attrs)} {_text(option.label.text)}</label>' for option in f]
        out.append("    </span>\n")
        if unit:
            out.append(f'<span class="unit">{_text(unit)}</span>')
        out.append("  </div>\n")
    else:
        out.append(f'  <label for="{fid}">{mark}{text}</label>\n  <div class="control">\n')
        attrs = {}
        if placeholder:
            attrs["placeholder"] = placeholder
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if errors:
            attrs["aria-invalid"] = "true"
        if counter:
            attrs["data-counter"] = counter
            low = _lower_limit(f)
            if low:
                attrs["data-counter-min"] = low
        out.append(f"    {render_input(f, attrs)}\n")
        if unit:
            out.append(f'<span class="unit">{_text(unit)}</span>')
        out.append("  </div>\n")
    if hint:
        out.append(f'<p class="hint" id="{fid}-hint">{_text(hint)}</p>')
    if pinned:
        out.append('<p class="pinned-note">审核人员标出此项需要修改。</p>')
    out += [f'<p class="error-message" id="{fid}-error-{n}">{_text(e)}</p>' for n, e in enumerate(errors, 1)]
    out += [
        f'<p class="warning-message" id="{fid}-warning-{n}">{_text(w)}</p>' for n, w in enumerate(warnings or (), 1)
    ]
    out.append(f"</{tag}>\n")
    return Markup("".join(out))


def field_macro(pinned_fields=None):
    """The ``field`` of _macros/forms.html: ``field_html`` with the page's reviewer's marks
    (``pinned_fields`` when the macros are imported "with context"), called by the templates as a
    plain function rather than through a Jinja macro (about 7 µs a call, 60 calls a step page)."""

    def field(
        f, unit=None, hint=None, placeholder=None, wide=False, counter=None, label=None, required=None, warnings=None
    ):
        pinned = pinned_fields is not None and f.name in pinned_fields
        return field_html(f, unit, hint, placeholder, wide, counter, label, required, warnings, pinned)

    return field
