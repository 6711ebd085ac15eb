"""The workspace side menu: the modules' MenuItems (app/modules.py), grouped in the order
app/blueprints/__init__.py gives; a role sees only what its access policy lets it reach. And the
layout's fixed links (``layout_url``)."""

from flask import current_app, has_request_context, request, url_for
from flask_login import current_user

from app.access import policy_of
from app.extensions import static_digest
from app.modules import wiring

KEPT_MAX = 256  # kept menus and links per process (a handful of roles and links under one root)


def _allowed(endpoint, role):
    policy = policy_of(endpoint)
    if policy in ("public", "login"):
        return True
    return bool(policy) and role in policy


def _kept(name):
    """A per-process dict of what the layout keeps, emptied should it ever grow past KEPT_MAX (script
    roots are the deployment's, but odd ones must never pile up)."""
    kept = current_app.extensions.setdefault(name, {})
    if len(kept) > KEPT_MAX:
        kept.clear()
    return kept


def _menu_of(role):
    """[(group title, [(label, endpoint, url)])] the role may reach: the same for every request of
    the app (the modules' menus and the access policies are fixed when it is built, and so are the
    links under one script root), so worked out once per role, script root and process."""
    kept = _kept("menus_by_role")
    key = (role, request.script_root)
    if key not in kept:
        groups = []
        for title, items in wiring().menu:
            visible = [
                (label, endpoint, url_for(endpoint, **(args or {})))
                for label, endpoint, args in items
                if _allowed(endpoint, role)
            ]
            if visible:
                groups.append((title, visible))
        kept[key] = groups
    return kept[key]


def side_menu():
    return [
        {
            "title": title,
            "items": [
                {"label": label, "url": url, "active": request.endpoint == endpoint} for label, endpoint, url in items
            ],
        }
        for title, items in _menu_of(current_user.role)
    ]


def layout_url(endpoint, filename=None):
    """The URL of an endpoint without arguments (the banner's, main navigation's and footer's links),
    or of a static file (``filename``, by its fingerprinted name while the digest manifest is the
    one it was read from): the same on every page under one script root, so built once per process
    instead of a dozen url_for calls per page."""
    kept = _kept("layout_urls")
    key = (endpoint, filename, request.script_root)
    manifest = static_digest.manifests.get("static") if filename else None
    found = kept.get(key)
    if found is None or found[0] is not manifest:
        url = static_digest.static_url_for(endpoint, filename=filename) if filename else url_for(endpoint)
        found = kept[key] = (manifest, url)
    return found[1]


_UNKNOWN = object()
MARK = 2_000_000_000  # argument values whose digits mark, in a URL built once, where each argument goes


def _url_shape(endpoint, names):
    """``endpoint``'s URL with whole-number arguments ``names`` as a format string ("/reports/{0}"),
    or None where that does not hold: several rules, defaults, arguments that would go into the
    query string, a converter that writes a number other than as its digits."""
    if any(current_app.url_default_functions.values()):
        return None  # a url_defaults hook may add to any URL: url_for each time
    rules = list(current_app.url_map.iter_rules(endpoint))
    if len(rules) != 1 or rules[0].defaults or set(names) != rules[0].arguments:
        return None
    built = url_for(endpoint, **{name: MARK + n for n, name in enumerate(names)})
    shape = built.replace("{", "{{").replace("}", "}}")
    for n in range(len(names)):
        if shape.count(str(MARK + n)) != 1:
            return None
        shape = shape.replace(str(MARK + n), f"{{{n}}}")
    if url_for(endpoint, **dict.fromkeys(names, 7)) != shape.format(*[7] * len(names)):
        return None  # e.g. a converter that pads to fixed digits
    return shape


def page_url(endpoint, **values):
    """Templates' ``url_for``: the same URL, and for the usual call in a list's rows (an endpoint
    and its whole-number ids) built from the shape ``url_for`` gave the first time, per process and
    script root, instead of through the URL map (a queue page makes ~60 of them)."""
    names = tuple(sorted(name for name, value in values.items() if value is not None))
    if (
        not has_request_context()  # rendered outside a request: url_for's own rules (SERVER_NAME)
        or endpoint[:1] == "."
        or any(name[:1] == "_" or type(values[name]) is not int for name in names)
    ):
        return url_for(endpoint, **values)
    kept = _kept("url_shapes")
    key = (endpoint, names, request.script_root)
    shape = kept.get(key, _UNKNOWN)
    if shape is _UNKNOWN:
        shape = kept[key] = _url_shape(endpoint, names)
    if shape is None:
        return url_for(endpoint, **values)
    return shape.format(*[values[name] for name in names])
