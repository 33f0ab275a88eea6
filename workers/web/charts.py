"""Inline SVG charts of volume and sentiment over time (no script, scale with the page)."""

from __future__ import annotations

from html import escape

from workers.web.desk import Day

WIDTH, HEIGHT, PAD = 600, 160, 24
MAX_BAR = 48  # a bar's width at most: a few days should not fill the chart with one block
COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}


def _frame(title: str, body: str, label: str) -> str:
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT + PAD}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="none">{body}</svg></figure>'
    )


def _axis(days: list[Day]) -> str:
    if not days:
        return ""
    first, last = days[0].day.isoformat(), days[-1].day.isoformat()
    y = HEIGHT + PAD - 6
    return (
        f'<text x="0" y="{y}" class="tick">{first}</text>'
        f'<text x="{WIDTH}" y="{y}" class="tick" text-anchor="end">{last}</text>'
    )


def volume_chart(days: list[Day], title: str = "Articles per day") -> str:
    """Stacked bars: articles per day, split by sentiment label."""
    if not days:
        return _frame(title, '<text x="10" y="40">no dated articles</text>', "no data")
    top = max(d.total for d in days) or 1
    width = min(WIDTH / len(days), MAX_BAR)
    bars = []
    for number, day in enumerate(days):
        y = float(HEIGHT)
        for label, colour in COLOURS.items():
            height = HEIGHT * day.labels.get(label, 0) / top
            if height:
                y -= height
                bars.append(
                    f'<rect x="{number * width + 1:.1f}" y="{y:.1f}" width="{max(width - 2, 1):.1f}" '
                    f'height="{height:.1f}" fill="{colour}"><title>{day.day}: {day.labels[label]} {label}'
                    f"</title></rect>"
                )
        unlabelled = day.total - sum(day.labels.values())
        if unlabelled:
            height = HEIGHT * unlabelled / top
            y -= height
            bars.append(
                f'<rect x="{number * width + 1:.1f}" y="{y:.1f}" width="{max(width - 2, 1):.1f}" '
                f'height="{height:.1f}" fill="#34495e"><title>{day.day}: {unlabelled} without sentiment</title></rect>'
            )
    summary = f"{sum(d.total for d in days)} articles over {len(days)} days, at most {top} a day"
    return _frame(title, "".join(bars) + _axis(days), summary)


def tone_chart(days: list[Day], title: str = "Mean tone per day (-1 … +1)") -> str:
    """A line of the mean sentiment score per day, with the zero line."""
    points = [(n, d.tone) for n, d in enumerate(days) if d.tone is not None]
    if not points:
        return _frame(title, '<text x="10" y="40">no sentiment</text>', "no data")
    step = min(WIDTH / max(len(days), 1), MAX_BAR)
    mid = HEIGHT / 2

    def y(tone: float) -> float:
        return mid - tone * (HEIGHT / 2 - 4)

    coords = " ".join(f"{n * step + step / 2:.1f},{y(t):.1f}" for n, t in points)
    dots = "".join(
        f'<circle cx="{n * step + step / 2:.1f}" cy="{y(t):.1f}" r="3"><title>{days[n].day}: {t:+.2f}</title></circle>'
        for n, t in points
    )
    body = (
        f'<line x1="0" x2="{WIDTH}" y1="{mid}" y2="{mid}" class="zero"/>'
        f'<polyline points="{coords}" class="tone"/>{dots}{_axis(days)}'
    )
    mean = sum(t for _, t in points) / len(points)
    return _frame(title, body, f"mean tone {mean:+.2f} over {len(points)} days")
