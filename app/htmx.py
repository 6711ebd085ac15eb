"""The one place that decides between a full page and an htmx fragment."""

from flask import make_response, redirect, render_template, request


def is_htmx():
    """An htmx request that wants a fragment (a history restore wants the full page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(template, partial=None, *, status=200, push_url=None, **context):
    """Render ``template`` (a full page), or ``partial`` alone for an htmx request.

    ``push_url`` sets HX-Push-Url on fragment responses, so the address bar shows the real URL.
    """
    fragment = partial is not None and is_htmx()
    response = make_response(render_template(partial if fragment else template, **context), status)
    response.vary.add("HX-Request")
    if fragment and push_url:
        response.headers["HX-Push-Url"] = push_url
    return response


def redirect_303(location):
    """After a successful POST: a 303 for plain forms; htmx follows it and swaps the result."""
    return redirect(location, code=303)
