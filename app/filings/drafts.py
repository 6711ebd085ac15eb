"""保存草稿: which checks a half-filled step must pass, and what it still lacks.

A draft keeps whatever was typed so that nobody who must leave half way loses work. So a draft is
refused only for what is *wrong* (not a number, an amount with three decimals, a phone that is no
phone, a date that is no date, more than the maximum, a choice not offered, 本科人数 above
服务人员数); what is *not finished yet* is kept: an empty required field, a text shorter than its
minimum (荣誉资质 300 字), an explanation a comparison asks for (异常说明). 下一步 and 提交 still
demand everything, and a step saved unfinished is not marked complete (services.filing_save_step).

A validator may say what it checks in a draft: ``for_draft()`` returns the validator to run then,
or None to skip it (app/forms.py ``CharCount`` keeps its maximum only).
"""

from wtforms.validators import DataRequired, InputRequired

SKIPPED = (InputRequired, DataRequired)


def _blank(field):
    """Nothing typed: no value, and nothing that failed to read as one ("abc" in a number box)."""
    return not field.process_errors and (field.data is None or field.data == "" or field.data == [])


def _for_draft(validator):
    if isinstance(validator, SKIPPED):
        return None
    for_draft = getattr(validator, "for_draft", None)
    return for_draft() if for_draft else validator


def validate_draft(form):
    """Validate ``form`` as a draft: a blank field is not checked, a filled one by its format checks
    (required checks skipped, a validator's ``for_draft`` used). The CSRF token is checked as ever.
    True when nothing typed is wrong; the errors are on the fields as ``form.validate()`` leaves them."""
    ok = True
    for name, field in form._fields.items():
        if field.type != "CSRFTokenField" and _blank(field):
            field.errors = []
            continue
        inline = getattr(type(form), f"validate_{name}", None)
        chain = field.validators
        field.validators = [v for v in map(_for_draft, chain) if v is not None]
        try:
            ok = field.validate(form, [inline] if inline is not None else []) and ok
        finally:
            field.validators = chain
    return ok


def unfinished(form):
    """The labels of the fields a full validation (下一步) would still refuse; the form's errors are
    left as they were (a 409 shows the form again, without the 下一步 complaints)."""
    kept = {name: field.errors for name, field in form._fields.items()}
    try:
        form.validate()
        return [field.label.text for field in form if field.errors]
    finally:
        for name, errors in kept.items():
            form[name].errors = errors


def validate_step(form, *, draft=False):
    """(True when the input may be saved, the labels still unfinished): 下一步 needs every check,
    保存草稿 only the format checks and says what is left."""
    if not draft:
        return form.validate(), []
    if not validate_draft(form):
        return False, []
    return True, unfinished(form)
