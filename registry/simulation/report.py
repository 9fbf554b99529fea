"""The demo's report: one self-contained HTML page with inline SVG charts (no
scripts, no network), written into the state directory."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from registry.domain.foto import FotoKind

PALETTE = ("#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#57606a")
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2328}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;font-size:.85rem}td,th{padding:.25rem .6rem;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:8px;
padding:.8rem 1.2rem}.card b{display:block;font-size:1.5rem}.legend span{margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""


def bar_chart(
    labels: list[str],
    series: dict[str, list[float]],
    *,
    width: int = 1000,
    height: int = 260,
) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    if not labels:
        return "<p>(nothing to show)</p>"
    top = _nice(max((v for values in series.values() for v in values), default=0))
    left, bottom, plot_h = 60, 60, height - 80
    group_w = (width - left - 10) / len(labels)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for tick in range(5):
        y = 10 + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{_short(top * tick / 4)}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{10 + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)} '
                f"{escape(name)}: {values[i]:,.0f}</title></rect>"
            )
        parts.append(
            f'<text transform="translate({x0 + group_w * 0.4:.1f},{height - bottom + 24}) rotate(-45)" '
            f'font-size="10" text-anchor="end">{escape(label)}</text>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{PALETTE[j % len(PALETTE)]}"></i>{escape(n)}</span>'
        for j, n in enumerate(series)
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


def _nice(value: float) -> float:
    """The smallest of 1, 2, 4, 5, 8 or 10 × 10^n at or above value (4 ticks)."""
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 4, 5, 8, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:.1f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


CHART_SCHOOLS = 40


def _largest(weights: dict[str, float]) -> tuple[list[str], str]:
    """The schools a chart shows: all of them, or at national scale the
    CHART_SCHOOLS largest (hundreds of bars are unreadable); and a note."""
    if len(weights) <= CHART_SCHOOLS:
        return sorted(weights), ""
    top = sorted(weights, key=lambda b: -weights[b])[:CHART_SCHOOLS]
    return sorted(top), f" (the {CHART_SCHOOLS} largest of {len(weights):,})"


def write_report(path: Path, summary: dict[str, Any]) -> Path:
    fotos = summary["fotos"]  # brin -> soort -> (controletotaal, bekostigd)
    schools, fotos_note = _largest(
        {b: max((v[1] for v in f.values()), default=0) for b, f in fotos.items()}
    )
    kinds = tuple(FotoKind)
    cards = "".join(
        f'<div class="card">{escape(k)}<b>{_fmt(v)}</b></div>'
        for k, v in summary["cards"].items()
    )
    signals = summary["signals"]
    diff = summary["diff"]  # brin -> {ingestroomd, uitgestroomd, gewijzigd}
    funding = summary["funding"]  # brin -> totaal (float)
    funded, funding_note = _largest(funding)
    changed, diff_note = _largest({b: sum(d.values()) for b, d in diff.items()})
    stages = summary.get("stages", {})
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Enrolment registry: school year {escape(summary["schooljaar"])}</title><style>{STYLE}</style></head><body>
<h1>Enrolment registry: school year {escape(summary["schooljaar"])} ({escape(summary["scale"])})</h1>
<div class="cards">{cards}</div>
<h2>Funded students per foto per school{fotos_note}</h2>
{bar_chart(schools, {k: [fotos[b].get(k, (0, 0))[1] for b in schools] for k in kinds})}
<h2>Signals by code</h2>
{bar_chart(sorted(signals), {"signals": [signals[c] for c in sorted(signals)]}, height=220)}
<h2>From the voorlopige to the definitieve foto{diff_note}</h2>
{bar_chart(changed, {k: [diff[b][k] for b in changed] for k in ("ingestroomd", "uitgestroomd", "gewijzigd", "gegevens_gewijzigd")})}
<p>gewijzigd: the funding verdict changed; gegevens_gewijzigd: the same verdict, other data (e.g. an einddatum after 1 October).</p>
<h2>Funding per school (2022 amounts, EUR){funding_note}</h2>
{bar_chart(funded, {"funding": [funding[b] for b in funded]})}
{table(["school", "funding (EUR)"], [[b, funding[b]] for b in sorted(funding)])}
<h2>Not funded, by reason</h2>
{table(["reason", "periods"], sorted(summary["unfunded"].items()))}
<h2>Messages per topic</h2>
{table(["topic", "messages"], sorted(summary["topics"].items()))}
<h2>Stored by the agencies' reference consumers</h2>
{table(["recipient", "stored", "duplicates", "parked"], [[r, c["stored"], c["duplicates"], c["parked"]] for r, c in sorted(summary.get("consumers", {}).items())])}
<h2>Lag</h2>
{table(["component", "lag"], sorted(summary["lag"].items()))}
<h2>Where the time went (wall-clock seconds)</h2>
{table(["stage", "seconds"], [[k, float(v)] for k, v in stages.items()])}
</body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
