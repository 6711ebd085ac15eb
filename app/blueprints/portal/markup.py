"""Notice bodies: Markdown written by admins, rendered to HTML that no script can get through.

Markdown lets raw HTML through, so its output is cleaned with nh3 (the Rust ammonia sanitiser):
only the tags and attributes below survive; <script>/<style> go with their content; event-handler
attributes and every other attribute are dropped; links keep only http, https, mailto and tel
(relative links too), so ``javascript:`` and ``data:`` URLs lose their href.
"""

import re

import markdown
import nh3
from markupsafe import Markup

TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "del",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "nl2br"]

# The page's own title is the only <h1>: "# 标题" in a body becomes <h2>, "##" <h3>, and so on.
HEADING = re.compile(r"<(/?)h([1-5])\b", re.IGNORECASE)


def markdown_html(text):
    """Sanitised HTML for a Markdown ``text`` (safe to put in a template as it is)."""
    if not text or not text.strip():
        return Markup("")
    html = markdown.markdown(text, extensions=EXTENSIONS, output_format="html")
    html = HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html)
    cleaned = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer")
    return Markup(cleaned)
