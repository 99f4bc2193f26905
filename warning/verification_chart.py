"""The verification charts as inline SVG drawn on the server (no script, works offline): the reliability
diagram (forecast probability against how often it came true) and POD / FAR by lead day."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 280, 44, 210, 28, 34  # (the legend's names need the right)
LEVEL_COLOURS = {"blue": "#1f6feb", "yellow": "#c9a000", "orange": "#f07800", "red": "#d0021b"}
SOURCE_COLOURS = {"deterministic": "#12355b", "ensemble_prepare": "#2e8b57", "ensemble_act": "#8b2e6b"}


def x_of(share: float, span: float = 1.0) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * share / span


def y_of(share: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * share


def frame(label: str, x_label: str, y_label: str, ticks: list[tuple[float, str]]) -> list[str]:
    """The chart's box: 0–100 % up the side, the given ticks along the bottom."""
    parts = [f'<svg class="chart scores" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">']
    for share in (0, .25, .5, .75, 1):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_of(share):.1f}" y2="{y_of(share):.1f}" stroke="#e3e3e3"/>'
                     f'<text x="{LEFT - 4}" y="{y_of(share) + 4:.1f}" text-anchor="end" font-size="10">{share:.0%}</text>')
    for x, text in ticks:
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="10">{escape(text)}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle" font-size="11">{escape(x_label)}</text>'
                 f'<text x="4" y="{TOP - 14}" font-size="11" class="muted">{escape(y_label)}</text>')
    return parts


def legend(entries: list[tuple[str, str, bool]]) -> list[str]:
    """Names at the right: (text, colour, dashed)."""
    parts = []
    for index, (text, colour, dashed) in enumerate(entries):
        y = TOP + 14 + 18 * index
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        parts.append(f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 30}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
                     f'stroke-width="2"{dash}/><text x="{WIDTH - RIGHT + 34}" y="{y}" font-size="11">{escape(text)}</text>')
    return parts


def reliability_svg(rows: list[dict], level_names: dict[str, str], words: dict[str, str]) -> Markup:
    """Each level's bins as points (area by how many forecasts) on the diagonal a reliable forecast follows."""
    parts = frame(words["reliability"], words["forecast_probability"], words["observed_frequency"],
                  [(x_of(share), f"{share:.0%}") for share in (0, .2, .4, .6, .8, 1)])
    parts.append(f'<line x1="{x_of(0)}" y1="{y_of(0)}" x2="{x_of(1):.1f}" y2="{y_of(1):.1f}" stroke="#999" stroke-dasharray="3 3"/>')
    most = max((r["forecasts"] for r in rows), default=1)
    for level, colour in LEVEL_COLOURS.items():
        points = sorted((r for r in rows if r["level"] == level), key=lambda r: r["mean_probability"])
        if not points:
            continue
        path = " ".join(f'{x_of(r["mean_probability"]):.1f},{y_of(r["observed_frequency"]):.1f}' for r in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for r in points:
            radius = 2.5 + 5.5 * (r["forecasts"] / most) ** .5
            parts.append(f'<circle cx="{x_of(r["mean_probability"]):.1f}" cy="{y_of(r["observed_frequency"]):.1f}" '
                         f'r="{radius:.1f}" fill="{colour}" data-level="{level}" data-bin="{r["bin_from_pct"]}" '
                         f'data-forecasts="{r["forecasts"]}" data-observed="{r["observed_frequency"]}">'
                         f'<title>{escape(level_names[level])} {r["bin_from_pct"]}–{r["bin_to_pct"]} %: '
                         f'{r["forecasts"]} · {r["observed_frequency"]:.0%}</title></circle>')
    present = [level for level in LEVEL_COLOURS if any(r["level"] == level for r in rows)]
    parts += legend([(level_names[level], LEVEL_COLOURS[level], False) for level in present])
    return Markup("".join(parts) + "</svg>")


def lead_svg(rows: list[dict], source_names: dict[str, str], words: dict[str, str]) -> Markup:
    """POD (solid) and FAR (dashed) of each source by lead day, for one hazard and level."""
    longest = max((r["lead_d"] for r in rows), default=1) or 1
    parts = frame(words["lead_chart"], words["lead_days"], "POD / FAR",
                  [(x_of(day, longest), str(day)) for day in range(longest + 1)])
    entries = []
    for source, colour in SOURCE_COLOURS.items():
        mine = sorted((r for r in rows if r["source"] == source), key=lambda r: r["lead_d"])
        for score, dashed in (("pod", False), ("far", True)):
            points = [r for r in mine if r[score] is not None]
            if not points:
                continue
            path = " ".join(f'{x_of(r["lead_d"], longest):.1f},{y_of(r[score]):.1f}' for r in points)
            dash = ' stroke-dasharray="4 3"' if dashed else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash} '
                         f'data-source="{source}" data-score="{score}"/>')
            entries.append((f"{source_names[source]} {score.upper()}", colour, dashed))
    parts += legend(entries)
    return Markup("".join(parts) + "</svg>")
