"""Bar and line charts drawn on the server as inline SVG.

Staff pages and printed reports must work with no outside network and print as they show, so a
chart is plain SVG markup with its numbers written on it, no script and no chart library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colours that stay apart when printed in grey: dark blue, orange, green, purple.
PALETTE = ("#1f4e79", "#e07b39", "#3a8f5c", "#7a4b94")
# The page's own font (the admin's, the report's): a chart reads like the text around it.
FONT = 'font-family="inherit"'
# The plot's margins: the axis numbers on the left, the title on top, the labels below.
LEFT, TOP, BOTTOM = 48, 28, 40


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]


def _number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _nice_max(value: float) -> float:
    """The top of the axis, at least ``value``, such that its four gridlines fall on round
    whole numbers (counts below 4 get 1, 2, 3, 4; up to 12 they go by 2 or 3)."""
    if value <= 4:
        return 4
    if value <= 12:
        return 8 if value <= 8 else 12
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 4, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _frame(title: str, width: int, height: int, body: list[str], legend: list[str]) -> SafeString:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
        *legend,
        *body,
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def _legend(series: Sequence[Series], width: int) -> list[str]:
    if len(series) < 2:
        return []
    out, x = [], width
    for i, s in reversed(list(enumerate(series))):
        x -= 14 + 12 * len(s.name) + 10
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="5" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="14">{escape(s.name)}</text>')
    return out


def _axis(series: Sequence[Series], plot_w: int, plot_h: int) -> tuple[float, list[str]]:
    """The value at the top of the axis, room for the largest of ``series``, and the axis: five
    gridlines, each with its number."""
    left, top = LEFT, TOP
    top_value = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    out = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{_number(value)}</text>"
        )
    return top_value, out


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """Grouped vertical bars, one group per label, each bar with its value above it."""
    left, top = LEFT, TOP
    plot_w, plot_h = width - left - 8, height - top - BOTTOM
    top_value, body = _axis(series, plot_w, plot_h)
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 40), 2)
    for g, label in enumerate(labels):
        x0 = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for i, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            h = plot_h * (value or 0) / top_value
            x, y = x0 + i * bar_w, top + plot_h - h
            colour = PALETTE[i % len(PALETTE)]
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(s.name)} {escape(label)}: '
                f"{_number(value)}</title></rect>"
            )
            if groups * len(series) <= 24:
                body.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                    f'font-size="10">{_number(value)}</text>'
                )
        body.append(
            f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle">{escape(_short(label, group_w))}</text>'
        )
    return _frame(title, width, height, body, _legend(series, width))


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """One line per series over the labels (months), each point marked and numbered."""
    left, top = LEFT, TOP
    plot_w, plot_h = width - left - 28, height - top - BOTTOM
    top_value, body = _axis(series, plot_w, plot_h)
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    every = max(1, n // 12)
    for g, label in enumerate(labels):
        if g % every == 0:
            body.append(
                f'<text x="{left + g * step:.1f}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        points = [
            (left + g * step, top + plot_h - plot_h * (v or 0) / top_value)
            for g, v in enumerate(s.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(
            f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" '
            f'stroke-width="2"/>'
        )
        for (x, y), v in zip(points, s.values, strict=False):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(s.name)}: {_number(v)}</title></circle>"
            )
            if len(points) <= 12 and len(series) == 1:
                body.append(
                    f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle" '
                    f'font-size="10">{_number(v)}</text>'
                )
    return _frame(title, width, height, body, _legend(series, width))


def _short(label: str, room: float) -> str:
    """``label`` cut to about ``room`` pixels: a Chinese character takes some 11 px at this
    size, a digit or Latin letter 6; long hall names would otherwise run into each other."""
    used = 0.0
    for i, ch in enumerate(label):
        used += 11 if ord(ch) > 0x2E80 else 6
        if used > room:
            return label[: max(i - 1, 1)] + "…"
    return label
