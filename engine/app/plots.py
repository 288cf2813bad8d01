"""Plots as inline SVG strings, built server-side in pure Python (numpy only).

Why SVG from Python rather than a charting library or JavaScript: the web UI and the mailed ``report.html`` must
work offline (no CDN) and without scripts, and both should show the very same markup, so a chart is a string that
either can paste in. Prompt text is hostile, so every piece of text that reaches the markup (titles, labels,
tooltips, attributes) goes through :func:`html.escape` with ``quote=True``, and links are emitted only for relative
URLs (:func:`safe_href`). Colours are inline ``fill`` attributes so a standalone report needs no stylesheet.

Every function returns ``<svg ... role="img" aria-label="...">`` with a ``<title>``; empty input gives a small
"no data" SVG instead of an error.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

#: ten distinguishable colours (Tableau 10, grey swapped for cyan so it cannot be mistaken for "no group")
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf")
BAR = PALETTE[0]
NONE_GREY = "#cfcfcf"
INK = "#333333"
AXIS = "#999999"
MAX_BINS = 2000
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'
_NICE_BINS = [60 * m for m in (1, 2, 5, 10, 15, 30)] + [3600 * h for h in (1, 2, 3, 6, 12, 24, 48, 168, 336, 720)]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt_num(v: float) -> str:
    """Compact number: ``1,234``, ``12.3k``, ``4.5M``, ``0.42``; non-finite values as ``–``."""
    v = float(v)
    if not math.isfinite(v):
        return "–"
    a = abs(v)
    if a >= 9999.5:
        for scale, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")):
            if round(a / scale, 1) < 1000 or suffix == "T":
                return f"{v / scale:.1f}".removesuffix(".0") + suffix
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if a >= 10 else f"{v:.2g}"


def safe_href(href: str | None) -> str | None:
    """``href`` if it is a same-site relative URL (``/path`` or ``#frag``), else ``None``: no scheme, no ``//host``."""
    if not isinstance(href, str) or not href or href[0] not in "/#" or href.startswith(("//", "/\\")):
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in href):  # browsers drop tabs/newlines, read \ as /
        return None
    return href


def _svg(title: str, width: float, height: float, body: list[str]) -> str:
    w, h = int(round(width)), int(round(height))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{_e(title)}" {_FONT} fill="{INK}"><title>{_e(title)}</title>'
        f'<text x="4" y="14" font-weight="bold">{_e(_clip(title, int(w / 7)))}</text>'
    )
    return head + "".join(body) + "</svg>"


def _no_data(title: str, width: int) -> str:
    return _svg(title, width, 48, [f'<text x="4" y="36" fill="{AXIS}">no data</text>'])


def _clip(text: str, max_chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max(1, max_chars - 1)] + "…"


def _duration(seconds: int) -> str:
    for unit, name in ((7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % unit == 0:
            k = seconds // unit
            return name if k == 1 else f"{k} {name}s"
    return f"{seconds} seconds"  # pragma: no cover - every integer is a whole number of seconds


# --- timeline -------------------------------------------------------------------------------------------------


def timeline_counts(
    times: np.ndarray, bin_seconds: int = 3600, max_bins: int = MAX_BINS
) -> tuple[int, int, np.ndarray]:
    """``(t0, bin_seconds, counts)``: counts per bin from ``t0`` (aligned to the bin), widened to at most ``max_bins``."""
    t = np.asarray(times, dtype=np.int64).ravel()
    step = max(1, int(bin_seconds))
    if t.size == 0:
        return 0, step, np.zeros(0, dtype=np.int64)
    lo, hi = int(t.min()), int(t.max())
    need = (hi - lo) // step + 2  # +1 for the last bin, +1 for aligning t0 down
    if need > max_bins:
        want = step * -(-need // max_bins)
        step = next((b for b in _NICE_BINS if b >= want and b % step == 0), want)
    t0 = lo - lo % step
    counts = np.bincount((t - t0) // step, minlength=(hi - t0) // step + 1).astype(np.int64)
    return t0, step, counts


def _ticks(t0: int, t1: int, n: int) -> tuple[np.ndarray, str]:
    span = max(1, t1 - t0)
    if span > 3 * 86400:
        unit, steps, fmt = 86400, (1, 2, 5, 7, 14, 30, 60, 91, 182, 365, 730), "%Y-%m-%d"
    else:
        unit, steps, fmt = 3600, (1, 2, 3, 6, 12, 24, 48), "%m-%d %H:00"
    k = next((s for s in steps if span / (unit * s) <= n), steps[-1] * -(-span // (unit * steps[-1] * n)))
    step = unit * k
    ticks = np.arange(-(-t0 // step) * step, t1 + 1, step, dtype=np.int64)
    return (ticks if ticks.size else np.array([t0], dtype=np.int64)), fmt


def _strftime(ts: np.ndarray, fmt: str) -> list[str]:
    iso = np.datetime_as_string(ts.astype("datetime64[s]"), unit="m")  # YYYY-MM-DDTHH:MM, vectorised
    if fmt == "%Y-%m-%d":
        return [s[:10] for s in iso]
    if fmt == "%m-%d %H:00":
        return [f"{s[5:10]} {s[11:13]}:00" for s in iso]
    return [s.replace("T", " ") for s in iso]


def timeline(
    times: np.ndarray, *, bin_seconds: int = 3600, title: str = "prompts per hour", width: int = 720, height: int = 160
) -> str:
    """Bars of prompts per time bin (epoch seconds, UTC); bins are widened to keep at most ~2,000 bars."""
    t0, step, counts = timeline_counts(times, bin_seconds)
    return timeline_bars(t0, step, counts, asked_seconds=bin_seconds, title=title, width=width, height=height)


def timeline_bars(
    t0: int,
    step: int,
    counts: np.ndarray,
    *,
    asked_seconds: int = 3600,
    title: str = "prompts per hour",
    width: int = 720,
    height: int = 160,
) -> str:
    """The timeline from counts ``timeline_counts`` made (a view keeps those, not every timestamp); the title says
    the bin when it is not the one asked for."""
    counts = np.asarray(counts, dtype=np.int64)
    if title == "prompts per hour":
        title = f"prompts per {_duration(step)}"
    elif step != int(asked_seconds):
        title = f"{title} (per {_duration(step)})"
    if counts.size == 0:
        return _no_data(title, width)
    left, right, top, bottom = 44, 10, 24, 22
    pw, ph = max(40, width - left - right), max(30, height - top - bottom)
    n, peak = counts.size, int(counts.max())
    bw = pw / n
    gap = 1.0 if bw > 3 else 0.0
    base = top + ph
    body = [
        f'<line x1="{left}" y1="{base}" x2="{left + pw}" y2="{base}" stroke="{AXIS}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left + pw}" y2="{top}" stroke="#e6e6e6"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{fmt_num(peak)}</text>',
        f'<text x="{left - 4}" y="{base}" text-anchor="end">0</text>',
    ]
    idx = np.flatnonzero(counts)
    starts = _strftime(t0 + idx * step, "")
    for i, start in zip(idx.tolist(), starts, strict=True):
        c = int(counts[i])
        bh = max(0.5, c / peak * ph)
        body.append(
            f'<rect x="{left + i * bw:.2f}" y="{base - bh:.2f}" width="{max(0.3, bw - gap):.2f}" height="{bh:.2f}" '
            f'fill="{BAR}"><title>{start} — {c:,} prompt{"" if c == 1 else "s"}</title></rect>'
        )
    t1 = t0 + n * step
    ticks, fmt = _ticks(t0, t1, max(2, pw // 110))
    for tick, label in zip(ticks.tolist(), _strftime(ticks, fmt), strict=True):
        x = left + (tick - t0) / (t1 - t0) * pw
        if x > width - 36:
            continue
        body.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{AXIS}"/>')
        body.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{label}</text>')
    return _svg(title, width, height, body)


# --- bars and heatmap -------------------------------------------------------------------------------------------


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 480, unit: str = "") -> str:
    """Horizontal bars, one row per label, the value printed at the end of each bar."""
    vals = np.asarray(values, dtype=np.float64).ravel()
    if len(labels) != vals.size:
        raise ValueError(f"{len(labels)} labels but {vals.size} values")
    if vals.size == 0:
        return _no_data(title, width)
    row, top = 20, 24
    suffix = f" {unit}" if unit else ""
    shown_all = [fmt_num(v) + suffix for v in vals.tolist()]
    value_w = int(10 + 6.5 * max(len(t) for t in shown_all))
    label_w = int(min(0.4 * width, 8 + 6.5 * max(len(str(lb)) for lb in labels)))
    pw = max(20, width - label_w - value_w)
    finite = np.where(np.isfinite(vals), vals, 0.0).clip(min=0)
    peak = float(finite.max()) or 1.0
    body = []
    for i, (label, shown) in enumerate(zip(labels, shown_all, strict=True)):
        y = top + i * row
        bl = finite[i] / peak * pw
        body.append(
            f"<g><title>{_e(label)}: {_e(shown)}</title>"
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(_clip(label, int(label_w / 6.5)))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bl:.2f}" height="{row - 6}" fill="{BAR}"/>'
            f'<text x="{label_w + bl + 4:.2f}" y="{y + 14}">{_e(shown)}</text></g>'
        )
    return _svg(title, width, top + len(labels) * row + 6, body)


def heatmap(
    row_labels: Sequence[str], col_labels: Sequence[str], matrix: np.ndarray, *, title: str, width: int = 720
) -> str:
    """Cells shaded white → blue by value (scaled to the max), each with a ``row × col: value`` tooltip."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.size == 0 or not len(row_labels) or not len(col_labels):
        return _no_data(title, width)
    if m.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"matrix shape {m.shape} != ({len(row_labels)}, {len(col_labels)})")
    row, top = 18, 40
    label_w = int(min(0.35 * width, 8 + 6.5 * max(len(str(lb)) for lb in row_labels)))
    cw = max(2.0, (width - label_w - 8) / m.shape[1])
    finite = np.isfinite(m)
    peak = float(m[finite].max()) if finite.any() else 0.0
    frac = np.where(finite, np.clip(m, 0, None) / (peak or 1.0), 0.0)
    target = np.array([0x1F, 0x4E, 0x79], dtype=np.float64)
    rgb = np.rint(255 + frac[..., None] * (target - 255)).astype(int)
    body = [f'<text x="{width - 4}" y="14" text-anchor="end" fill="{AXIS}">max {fmt_num(peak)}</text>']
    every = max(1, math.ceil(6.5 * max(len(str(c)) for c in col_labels) / cw))
    for j, col in enumerate(col_labels):
        if j % every == 0:
            x = label_w + (j + 0.5) * cw
            body.append(f'<text x="{x:.1f}" y="{top - 6}" text-anchor="middle">{_e(_clip(col, 16))}</text>')
    for i, rlab in enumerate(row_labels):
        y = top + i * row
        body.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(_clip(rlab, int(label_w / 6.5)))}</text>'
        )
        for j, col in enumerate(col_labels):
            v = m[i, j]
            fill = "#f2f2f2" if not finite[i, j] else "#{:02x}{:02x}{:02x}".format(*rgb[i, j])
            x = label_w + j * cw
            cell = f'<rect x="{x:.2f}" y="{y}" width="{cw:.2f}" height="{row - 1}" fill="{fill}"'
            tip = f"<title>{_e(rlab)} × {_e(col)}: {fmt_num(v)}</title>"
            if cw >= 30 and finite[i, j] and v:
                ink = "#ffffff" if frac[i, j] > 0.55 else INK
                txt = f'<text x="{x + cw / 2:.2f}" y="{y + 13}" text-anchor="middle" fill="{ink}">{fmt_num(v)}</text>'
                body.append(f"<g>{tip}{cell}/>{txt}</g>")
            else:
                body.append(f"{cell}>{tip}</rect>")
    return _svg(title, width, top + len(row_labels) * row + 6, body)


# --- scatter and projection -------------------------------------------------------------------------------------


def _is_none_group(g: object) -> bool:
    return g is None or str(g).strip().lower() in ("", "none")


def scatter(
    x: np.ndarray,
    y: np.ndarray,
    sizes: np.ndarray,
    groups: Sequence[str],
    labels: Sequence[str],
    hrefs: Sequence[str | None],
    *,
    title: str,
    width: int = 720,
    height: int = 480,
) -> str:
    """A 2-D map of points: radius ∝ sqrt(size), colour by group, label tooltip, optional relative link."""
    xs, ys = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    sz = np.asarray(sizes, dtype=np.float64).ravel()
    n = xs.size
    if not (ys.size == sz.size == len(groups) == len(labels) == len(hrefs) == n):
        raise ValueError("x, y, sizes, groups, labels and hrefs must have the same length")
    keep = np.isfinite(xs) & np.isfinite(ys)
    if not keep.any():
        return _no_data(title, width)
    named = [g for g in dict.fromkeys(groups) if not _is_none_group(g)]
    colour = {g: PALETTE[k % len(PALETTE)] for k, g in enumerate(named)}
    legend_w = 150 if named else 0
    m, top = 12, 24
    pw, ph = max(40, width - legend_w - 2 * m), max(40, height - top - m)
    rmax = min(24.0, max(4.0, 0.5 * math.sqrt(pw * ph / int(keep.sum()))))
    # one scale for both axes (a projection's distances mean something), centred, leaving room for the radius
    lo_x, hi_x, lo_y, hi_y = xs[keep].min(), xs[keep].max(), ys[keep].min(), ys[keep].max()
    scale = min((pw - 2 * rmax) / ((hi_x - lo_x) or 1.0), (ph - 2 * rmax) / ((hi_y - lo_y) or 1.0))
    px = m + pw / 2 + (xs - (lo_x + hi_x) / 2) * scale
    py = top + ph / 2 - (ys - (lo_y + hi_y) / 2) * scale
    s = np.where(np.isfinite(sz) & (sz > 0), sz, 0.0)
    r = np.clip(rmax * np.sqrt(s / (s.max() or 1.0)), 2.0, rmax)
    coloured = np.array([not _is_none_group(g) for g in groups], dtype=bool)
    order = np.lexsort((-r, coloured))  # grey underneath, then big before small so small points stay visible
    body = []
    for i in order[keep[order]].tolist():
        g = groups[i]
        fill = colour.get(g, NONE_GREY) if coloured[i] else NONE_GREY
        tip = _e(labels[i]) + ("" if not coloured[i] else f" · {_e(g)}")
        circle = (
            f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="{r[i]:.1f}" fill="{fill}" fill-opacity="0.75" '
            f'stroke="#ffffff" stroke-width="0.5"><title>{tip}</title></circle>'
        )
        href = safe_href(hrefs[i])
        body.append(f'<a href="{_e(href)}">{circle}</a>' if href else circle)
    if named:
        lx = width - legend_w + 8
        shown = named[:12]
        for k, g in enumerate(shown):
            ly = top + 6 + k * 16
            body.append(
                f'<g><title>{_e(g)}</title><circle cx="{lx + 5}" cy="{ly}" r="5" fill="{colour[g]}"/>'
                f'<text x="{lx + 14}" y="{ly + 4}">{_e(_clip(g, 20))}</text></g>'
            )
        extra = [f"+{len(named) - 12} more"] if len(named) > 12 else []
        if not coloured.all():
            extra.append("no group")
        for k, text in enumerate(extra):
            ly = top + 6 + (len(shown) + k) * 16
            dot = f'<circle cx="{lx + 5}" cy="{ly}" r="5" fill="{NONE_GREY}"/>' if text == "no group" else ""
            body.append(f'{dot}<text x="{lx + 14}" y="{ly + 4}" fill="{AXIS}">{text}</text>')
    return _svg(title, width, height, body)


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """Deterministic PCA to 2-D: ``(n, 2)`` float64; signs fixed so each component's largest-|loading| is positive.

    The principal axes are the right singular vectors of the centred matrix; when there are more rows than
    dimensions they are taken from the eigenvectors of the small ``d × d`` scatter matrix: the same axes, far faster.
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim == 1:
        v = v.reshape(0, 0) if v.size == 0 else v.reshape(1, -1)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D array of row vectors, got shape {v.shape}")
    out = np.zeros((v.shape[0], 2), dtype=np.float64)
    if v.shape[0] < 2 or v.shape[1] == 0:
        return out
    xc = np.nan_to_num(v) - np.nan_to_num(v).mean(axis=0)
    if xc.shape[0] > xc.shape[1]:
        w, vecs = np.linalg.eigh(xc.T @ xc)  # symmetric: eigenvectors = right singular vectors, ascending
        s, vt = np.sqrt(np.clip(w[::-1], 0, None)), vecs[:, ::-1].T
    else:
        _, s, vt = np.linalg.svd(xc, full_matrices=False)
    for k in range(min(2, vt.shape[0])):
        if s[k] <= max(s[0], 1e-300) * 1e-6:
            continue  # no spread along this axis: leave the coordinate at 0 rather than project onto noise
        axis = vt[k] if vt[k, np.argmax(np.abs(vt[k]))] > 0 else -vt[k]
        out[:, k] = xc @ axis
    return out
