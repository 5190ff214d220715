"""Charts drawn on the server as inline SVG (no script, no CDN): horizontal bars, one per label,
readable on a 375-px phone."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ROW = 26
LABEL_W = 110
WIDTH = 360


def bar_chart_svg(items: list[tuple[str, Decimal]], *, title: str) -> SafeString:
    """``items`` (label, value) as bars scaled to the largest absolute value."""
    if not items:
        return mark_safe("")
    top = max((abs(v) for _l, v in items), default=Decimal(0)) or Decimal(1)
    bar_w = WIDTH - LABEL_W - 80
    height = ROW * len(items) + 30
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 28 + i * ROW
        w = int(bar_w * abs(value) / top) if top else 0
        colour = "#2f7d4f" if value >= 0 else "#b3402f"
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(str(label)[:12])}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{max(w, 1)}" height="{ROW - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{LABEL_W + max(w, 1) + 4}" y="{y + 15}" font-size="11">{value:,.2f}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
