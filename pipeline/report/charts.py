"""Hand-built inline SVG charts: no scripts, no external references, deterministic output.

Every text that goes into an SVG is escaped here (markupsafe); the result is Markup so the
autoescaping template inserts it as is.
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

PALETTE = {"primary": "#1f4e79", "secondary": "#8fb3d9", "grid": "#d9dee5", "text": "#1b2733",
           "muted": "#5b6b7c"}


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]],
              title: str, width: int = 860, label_width: int = 400, bar_height: int = 9,
              links: Sequence[str] | None = None) -> Markup:
    """Horizontal grouped bars: one row per label, one bar per series (name, values, colour)."""
    n = len(labels)
    k = max(1, len(series))
    row_h = bar_height * k + 10
    top, bottom = 34, 26
    height = top + n * row_h + bottom
    plot_w = width - label_width - 50
    vmax = max([max(vals) if len(vals) else 0 for _, vals, _ in series] + [1])
    step = _nice_step(vmax)
    vmax_axis = step * -(-vmax // step)
    scale = plot_w / vmax_axis if vmax_axis else 0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet" class="chart" '
           f'font-family="Segoe UI, Helvetica, Arial, sans-serif">',
           f'<title>{escape(title)}</title>']
    # legend, left-aligned above the bars
    lx = 10
    for name, _, colour in series:
        out.append(f'<rect x="{lx}" y="8" width="12" height="12" rx="2" fill="{colour}"/>')
        out.append(f'<text x="{lx + 17}" y="18" font-size="12" fill="{PALETTE["text"]}">'
                   f'{escape(name)}</text>')
        lx += 40 + int(6.4 * len(name))
    # grid
    tick = 0
    while tick <= vmax_axis:
        x = label_width + tick * scale
        out.append(f'<line x1="{_fmt(x)}" y1="{top - 4}" x2="{_fmt(x)}" '
                   f'y2="{top + n * row_h}" stroke="{PALETTE["grid"]}" stroke-width="1"/>')
        out.append(f'<text x="{_fmt(x)}" y="{top + n * row_h + 16}" font-size="11" '
                   f'text-anchor="middle" fill="{PALETTE["muted"]}">{tick}</text>')
        tick += step
    for i, label in enumerate(labels):
        y = top + i * row_h
        text = (f'<text x="{label_width - 8}" y="{_fmt(y + row_h / 2 + 1)}" font-size="12" '
                f'text-anchor="end" dominant-baseline="middle" fill="{PALETTE["text"]}">'
                f'{escape(_clip(label, 62))}</text>')
        if links:
            text = f'<a href="{escape(links[i])}">{text}</a>'
        out.append(text)
        for j, (name, vals, colour) in enumerate(series):
            v = vals[i] if i < len(vals) else 0
            by = y + 4 + j * bar_height
            w = v * scale
            out.append(f'<rect x="{label_width}" y="{by}" width="{_fmt(max(w, 0))}" '
                       f'height="{bar_height - 1}" rx="1.5" fill="{colour}">'
                       f'<title>{escape(name)}: {v}</title></rect>')
            if v:
                out.append(f'<text x="{_fmt(label_width + w + 4)}" y="{by + bar_height - 2}" '
                           f'font-size="10" fill="{PALETTE["muted"]}">{v}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _nice_step(vmax: float) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if vmax / step <= 8:
            return step
    return int(10 ** len(str(int(vmax))) / 10)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def heat_colour(value: int, vmax: int) -> str:
    """Background colour of a heat-map cell: white to deep blue by value/vmax."""
    if vmax <= 0 or value <= 0:
        return "#ffffff"
    t = min(1.0, value / vmax)
    start, end = (0xEE, 0xF3, 0xF9), (0x1F, 0x4E, 0x79)
    rgb = [round(s + (e - s) * (0.15 + 0.85 * t)) for s, e in zip(start, end)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def heat_text_colour(value: int, vmax: int) -> str:
    return "#ffffff" if vmax > 0 and value / vmax > 0.5 else "#1b2733"
