"""Server-side SVG charts (no chart script): columns for months, bars for 市州 and 服务类别.

Each chart is inline SVG with a <title> for screen readers; the page puts a table with the same
numbers beside it. Colours are presentation attributes (CSP allows no style attributes).
"""

import math

from markupsafe import Markup, escape

BLUE, ORANGE, GREY, TEXT = "#0b4a8b", "#e08a00", "#d5dbe3", "#1f2933"


def nice_max(value):
    """The axis end: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value):
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def column_chart(chart_id, title, labels, series, unit=""):
    """Grouped vertical columns: ``series`` is [(name, values, colour)], one value per label."""
    width, height = 560, 250
    left, right, top, bottom = 56, 12, 28, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_max(max([float(v) for _, values, _ in series for v in values] or [0]))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}（单位：{escape(unit)}，数据见下表）</title>',
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GREY}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{TEXT}">{_fmt(value)}</text>'
        )
    slot = plot_w / max(1, len(labels))
    bar_w = min(28, slot * 0.8 / max(1, len(series)))
    for index, label in enumerate(labels):
        x0 = left + slot * index + (slot - bar_w * len(series)) / 2
        for s_index, (name, values, colour) in enumerate(series):
            value = float(values[index] or 0)
            h = plot_h * value / top_value
            x = x0 + bar_w * s_index
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)} {escape(name)}：{_fmt(value)}{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{left + slot * index + slot / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="12" fill="{TEXT}">{escape(label)}</text>'
        )
    # legend
    x = left
    for name, _, colour in series:
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="16" font-size="12" fill="{TEXT}">{escape(name)}</text>')
        x += 24 + 14 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id, title, rows, unit="", colour=BLUE):
    """Horizontal bars: ``rows`` is [(label, value)], drawn in the given order."""
    row_h, label_w, width = 22, 130, 560
    height = 10 + row_h * max(1, len(rows))
    plot_w = width - label_w - 70
    top_value = nice_max(max([float(v or 0) for _, v in rows] or [0]))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}（单位：{escape(unit)}，数据见右表）</title>',
    ]
    for index, (label, value) in enumerate(rows):
        y = 5 + row_h * index
        w = plot_w * float(value or 0) / top_value
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="{TEXT}">{escape(label)}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 7}" fill="{colour}"/>')
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="{TEXT}">{_fmt(value or 0)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
