"""engine.app.plots: well-formed, escaped, link-safe SVG strings, and a deterministic 2-D projection."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from engine.app import plots

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a & b", "it's"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img" and root.get("aria-label") is not None
    assert root.get("viewBox") and root.get("width") and root.get("height")
    assert root.find(f"{NS}title") is not None
    return root


def assert_inert(svg: str) -> ET.Element:
    root = parse(svg)
    tags = {el.tag.removeprefix(NS) for el in root.iter()}
    assert not tags & {"script", "img", "foreignObject", "iframe"}
    low = svg.lower()
    assert "<script" not in low and "<img" not in low
    for el in root.iter():  # the hostile text never becomes an element or an attribute
        assert not [k for k in el.attrib if k.lower().startswith("on")]
    return root


def tooltips(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{NS}title")]


def test_fmt_num() -> None:
    assert plots.fmt_num(0) == "0"
    assert plots.fmt_num(1234) == "1,234"
    assert plots.fmt_num(12_345) == "12.3k"
    assert plots.fmt_num(20_000) == "20k"
    assert plots.fmt_num(4_500_000) == "4.5M"
    assert plots.fmt_num(999_990) == "1M"
    assert plots.fmt_num(0.4242) == "0.42"
    assert plots.fmt_num(12.34) == "12.3"
    assert plots.fmt_num(float("nan")) == "–"


def test_safe_href() -> None:
    for ok in ["/cluster/12", "#c12", "/search?q=a&b=1"]:
        assert plots.safe_href(ok) == ok
    for bad in [
        None,
        "",
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "cluster/12",
    ]:
        assert plots.safe_href(bad) is None, bad


# --- timeline ---------------------------------------------------------------------------------------------------


def test_timeline_counts_add_up_and_tooltips_match() -> None:
    rng = np.random.default_rng(1)
    t0 = 1_794_000_000  # 2026-11
    times = (t0 + rng.integers(0, 2 * 86400, size=5000)).astype(np.int64)
    start, step, counts = plots.timeline_counts(times)
    assert step == 3600 and start % 3600 == 0 and counts.sum() == times.size
    root = parse(plots.timeline(times))
    assert root.find(f"{NS}title").text == "prompts per hour"
    tips = [t for t in tooltips(root) if "prompt" in t and "—" in t]
    total = sum(int(re.search(r"— ([\d,]+) prompts?$", t).group(1).replace(",", "")) for t in tips)
    assert total == times.size
    assert all(re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:00 — ", t) for t in tips)
    texts = [el.text for el in root.iter(f"{NS}text")]
    assert plots.fmt_num(counts.max()) in texts  # y-axis max label
    assert any(re.fullmatch(r"\d{2}-\d{2} \d{2}:00", t or "") for t in texts)  # x-axis ticks (short span)


def test_timeline_widens_bins_over_long_spans() -> None:
    times = np.arange(0, 400 * 86400, 977, dtype=np.int64) + 1_700_000_000
    start, step, counts = plots.timeline_counts(times)
    assert counts.size <= plots.MAX_BINS and step > 3600 and step % 3600 == 0
    assert counts.sum() == times.size
    svg = plots.timeline(times)
    root = parse(svg)
    title = root.find(f"{NS}title").text
    assert title.startswith("prompts per ") and title != "prompts per hour"
    assert len(root.findall(f".//{NS}rect")) <= plots.MAX_BINS
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", el.text or "") for el in root.iter(f"{NS}text"))
    custom = parse(plots.timeline(times, title="<b>night</b> & day"))
    assert "(per " in custom.find(f"{NS}title").text


def test_timeline_single_and_empty() -> None:
    one = parse(plots.timeline(np.array([1_794_000_123], dtype=np.int64)))
    assert any("— 1 prompt" in t for t in tooltips(one))
    empty = parse(plots.timeline(np.array([], dtype=np.int64)))
    assert "no data" in [el.text for el in empty.iter(f"{NS}text")]


def test_timeline_escapes_title() -> None:
    assert_inert(plots.timeline(np.array([1, 2, 3], dtype=np.int64), title=HOSTILE[0]))


# --- bars and heatmap -------------------------------------------------------------------------------------------


def test_bars() -> None:
    labels = ["coding", "math", *HOSTILE]
    values = [1234, 5.5, 0, 12_345, -1, float("nan")]
    svg = plots.bars(labels, values, title="coverage <by> area", unit="prompts")
    root = assert_inert(svg)
    texts = [el.text for el in root.iter(f"{NS}text")]
    assert "1,234 prompts" in texts and "12.3k prompts" in texts
    assert "coding: 1,234 prompts" in tooltips(root)
    assert HOSTILE[0] + ": 0 prompts" in tooltips(root)  # escaped in the markup, intact once parsed
    few = plots.bars(["a"], [1], title="t")
    assert int(root.get("height")) > int(ET.fromstring(few).get("height"))  # grows with rows
    assert "no data" in plots.bars([], [], title="t")
    with pytest.raises(ValueError):
        plots.bars(["a", "b"], [1], title="t")


def test_heatmap() -> None:
    rows = ["coding", HOSTILE[0], HOSTILE[1]]
    cols = ["11-20", "11-21", HOSTILE[2]]
    m = np.array([[0, 1, 2], [3, 4, 5], [6, 7, np.nan]], dtype=np.float64)
    root = assert_inert(plots.heatmap(rows, cols, m, title="areas × nights"))
    tips = tooltips(root)
    assert "coding × 11-21: 1" in tips and f"{HOSTILE[1]} × 11-21: 7" in tips
    fills = {r.get("fill") for r in root.iter(f"{NS}rect")}
    assert "#ffffff" in fills and len(fills) >= 8  # white for zero, shades up to the max
    assert "no data" in plots.heatmap([], [], np.zeros((0, 0)), title="t")
    with pytest.raises(ValueError):
        plots.heatmap(["a"], ["b", "c"], np.zeros((2, 2)), title="t")


# --- scatter ----------------------------------------------------------------------------------------------------


def test_scatter_links_only_relative_hrefs() -> None:
    n = 6
    x, y = np.arange(n, dtype=float), np.arange(n, dtype=float) ** 2
    hrefs = ["/cluster/1", "#c2", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", None, '/x"y']
    svg = plots.scatter(
        x,
        y,
        np.arange(1, n + 1),
        ["a", "b", "", "none", HOSTILE[0], HOSTILE[1]],
        HOSTILE + ["p5", "p6"],
        hrefs,
        title="map",
    )
    root = assert_inert(svg)
    links = [a.get("href") for a in root.iter(f"{NS}a")]
    assert sorted(links) == sorted(["/cluster/1", "#c2", '/x"y'])
    assert "javascript:" not in svg and "data:" not in svg
    assert len(root.findall(f".//{NS}circle")) >= n
    assert any(t.startswith(HOSTILE[0]) for t in tooltips(root))


def test_scatter_radius_colours_and_legend() -> None:
    n = 40
    rng = np.random.default_rng(0)
    groups = [f"g{i % 15}" for i in range(n - 2)] + ["", "none"]
    sizes = np.r_[np.full(n - 1, 1.0), 10_000.0]
    svg = plots.scatter(rng.random(n), rng.random(n), sizes, groups, [str(i) for i in range(n)], [None] * n, title="m")
    root = parse(svg)
    points = [c for c in root.iter(f"{NS}circle") if c.find(f"{NS}title") is not None and c.get("r") != "5"]
    radii = [float(c.get("r")) for c in points]
    assert len(points) == n and min(radii) >= 2 and max(radii) <= 24
    assert points[0].get("fill") == plots.NONE_GREY  # ungrouped drawn underneath
    assert points[1].get("fill") == plots.NONE_GREY
    assert "+3 more" in svg and "no group" in svg
    assert plots.PALETTE[0] in svg and plots.PALETTE[9] in svg


def test_scatter_edge_cases() -> None:
    assert "no data" in plots.scatter(np.array([]), np.array([]), np.array([]), [], [], [], title="t")
    nan = np.array([np.nan])
    assert "no data" in plots.scatter(nan, nan, np.array([1.0]), ["a"], ["a"], [None], title="t")
    one = parse(plots.scatter(np.array([0.0]), np.array([0.0]), np.array([0.0]), [""], ["x"], ["/c/1"], title="t"))
    assert len(one.findall(f".//{NS}a")) == 1
    with pytest.raises(ValueError):
        plots.scatter(np.zeros(2), np.zeros(2), np.zeros(2), ["a"], ["a", "b"], [None, None], title="t")


# --- project_2d -------------------------------------------------------------------------------------------------


def _normed(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def test_project_2d_separates_blobs_and_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    centre_a, centre_b = rng.standard_normal(128), rng.standard_normal(128)
    a = centre_a + 0.05 * rng.standard_normal((300, 128))
    b = centre_b + 0.05 * rng.standard_normal((200, 128))
    v = _normed(np.vstack([a, b]))
    p = plots.project_2d(v)
    assert p.shape == (500, 2) and p.dtype == np.float64
    xa, xb = p[:300, 0], p[300:, 0]
    assert xa.max() < xb.min() or xb.max() < xa.min()
    assert np.array_equal(p, plots.project_2d(v.copy()))
    # the sign rule fixes the axes' orientation: the same rows in another order give the same picture
    q = plots.project_2d(v[::-1])
    assert np.allclose(q[::-1], p, atol=1e-6)


def test_project_2d_small_and_wide() -> None:
    assert plots.project_2d(np.zeros((0, 384), dtype=np.float32)).shape == (0, 2)
    assert plots.project_2d(np.array([])).shape == (0, 2)
    assert np.array_equal(plots.project_2d(np.ones((1, 384), dtype=np.float32)), np.zeros((1, 2)))
    two = plots.project_2d(_normed(np.eye(2, 384) + 0.1))
    assert two.shape == (2, 2) and np.all(np.isfinite(two)) and np.allclose(two[:, 1], 0)
    assert two[0, 0] == pytest.approx(-two[1, 0])
    same = plots.project_2d(np.ones((5, 8)))
    assert np.array_equal(same, np.zeros((5, 2)))
    wide = plots.project_2d(np.random.default_rng(0).standard_normal((10, 50)))  # n < d: SVD of the matrix itself
    assert wide.shape == (10, 2) and np.all(np.isfinite(wide))
