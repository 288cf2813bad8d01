"""The web UI and the one-file report in a real (headless) browser: pages render, links lead where they should, and
hostile prompt text is shown as text and never runs.

Needs Chromium and its driver from Debian (``apt-get install chromium chromium-driver``; ``make test`` does it when
run as root) and selenium (the dev extra); without them the module is skipped and says so, except in CI (``$CI``
set), where that is a failure. Paths to both binaries are
given explicitly so Selenium Manager never goes to the network. Screenshots are written as test artefacts under
``$PROMPTSIM_ARTIFACTS`` (default ``tests/artifacts/``).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import HOSTILE_ACCOUNT, HOSTILE_TEXTS

ROOT = Path(__file__).resolve().parents[1]
INSTALL = "install them with `apt-get install chromium chromium-driver` (`make test` does it when run as root)"
WAIT = 10

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the environment
    webdriver = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
#: a real browser against a live server: `make test-fast` leaves these out
pytestmark = pytest.mark.slow
#: in CI (``$CI`` set) a missing browser is an error, not a skip: CI must not go green with the UI untested
IN_CI = bool(os.environ.get("CI"))


def _skip_or_fail(why: str, *, module: bool = False) -> None:
    if IN_CI:
        pytest.fail(f"CI: the browser tests cannot run: {why}", pytrace=False)
    pytest.skip(why, allow_module_level=module)


# decided before any fixture runs, so a machine without a browser skips at once instead of first building the store
if webdriver is None:
    _skip_or_fail("selenium is not installed: `pip install -e '.[dev]'`", module=True)
if not (CHROMIUM and CHROMEDRIVER):
    _skip_or_fail(f"chromium and/or chromedriver not found on PATH: {INSTALL}", module=True)

#: what the HTML a server or report sends must not contain if escaping held (Jinja escapes quotes as well)
RAW_UNESCAPED = (
    "<script>window.__xss",
    'onerror="window.__xss',
    "<img src=x",
    "<svg onload",
    "<iframe",
    'href="javascript:',
)
#: what the browser's serialised DOM must not contain: markup, not text (a text node serialises ``"`` as it is, so
#: ``onerror="window.__xss`` alone would also match the escaped, harmless text)
DOM_UNESCAPED = (
    "<script>window.__xss",
    "<img src=x onerror",
    "<svg onload",
    "<iframe src=javascript:",
    '<a href="javascript:',
)

#: the DOM after load, from inside the page: anything that could have run, and every link and resource reference
DOM_PROBE = """
const q = s => document.querySelectorAll(s).length;
const attr = (sel, name) => [...document.querySelectorAll(sel)].map(e => e.getAttribute(name));
return {
  xss: window.__xss === undefined ? null : window.__xss,
  title: document.title,
  scripts: q('script'),
  handlers: q('[onerror],[onload],[onclick],[onmouseover],[onfocus]'),
  js_links: q('a[href^="javascript:" i]'),
  frames: q('iframe,object,embed,frame'),
  hrefs: attr('a', 'href').filter(h => h !== null),
  resources: [].concat(attr('img,script,iframe,source,video,audio,embed', 'src'), attr('link', 'href'),
                       attr('object', 'data')).filter(h => h !== null),
  csp: [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy" i]')].map(m => m.content),
  body_visible: getComputedStyle(document.body).display !== 'none',
};
"""


def artifacts_dir() -> Path:
    out = Path(os.environ.get("PROMPTSIM_ARTIFACTS") or ROOT / "tests" / "artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def get_raw(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode("utf-8")
    except urllib.error.HTTPError as e:  # an error page (a 404 for an unknown id) is a page too
        return e.read().decode("utf-8")


@pytest.fixture(scope="module")
def browser():
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ):
        opts.add_argument(arg)
    opts.unhandled_prompt_behavior = "ignore"  # an alert a payload opened stays open, for switch_to.alert to see
    try:
        driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    except (WebDriverException, OSError) as e:
        _skip_or_fail(f"chromium/chromedriver did not start ({getattr(e, 'msg', None) or e}); {INSTALL}")
    driver.set_page_load_timeout(30)
    driver.set_window_size(1280, 1600)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(browser, live_server):
    return live_server.url


def wait(driver):
    return WebDriverWait(driver, WAIT)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))


def left(old):
    """A wait condition: the page holding element ``old`` has been replaced. Selenium's ``staleness_of`` asks the
    element whether it is enabled and counts only a stale-element error as gone; while the next page loads, Chrome
    may answer instead that the node "does not belong to the document" (another WebDriverException), which is the
    same fact and must not fail the wait."""

    def gone(_driver) -> bool:
        try:
            old.is_enabled()
        except WebDriverException:  # StaleElementReferenceException is one
            return True
        return False

    return gone


def click_through(driver, link) -> None:
    """Click a link (or a form's button) and wait for the next page (the old one gone, the new one's heading there)."""
    old = driver.find_element(By.TAG_NAME, "html")
    link.click()
    wait(driver).until(left(old))
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))


def shot(driver, name: str) -> Path:
    path = artifacts_dir() / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    return path


def h1(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "main h1").text


def links_under(driver, path: str, root: str = "main") -> list:
    return driver.find_elements(By.CSS_SELECTOR, f'{root} a[href^="{path}"]')


def table_after(driver, heading: str):
    """The first table after the h2 that starts with ``heading``."""
    return driver.find_element(
        By.XPATH, f"//h2[starts-with(normalize-space(.), '{heading}')]/following-sibling::table[1]"
    )


def assert_inert(driver, label: str, raw: str | None = None, *, relative_links: str = "/#") -> dict:
    """Nothing a payload carried ran or could run on the current page; returns the DOM probe for more checks."""
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"{label}: an alert is open ({text!r}): a payload ran")
    except NoAlertPresentException:
        pass
    assert driver.execute_script("return window.__xss") is None, f"{label}: a payload set window.__xss"
    probe = driver.execute_script(DOM_PROBE)
    assert probe["xss"] is None and probe["title"] != "pwned", f"{label}: a payload ran: {probe}"
    assert probe["scripts"] == 0, f"{label}: {probe['scripts']} <script> element(s) in the page"
    assert probe["handlers"] == 0, f"{label}: elements with on* handler attributes"
    assert probe["js_links"] == 0, f"{label}: javascript: links"
    assert probe["frames"] == 0, f"{label}: iframe/object/embed elements"
    assert probe["body_visible"], f"{label}: a stylesheet from prompt text hid the page"
    bad = [h for h in probe["hrefs"] if not h or h[0] not in relative_links or h.startswith("//")]
    assert not bad, f"{label}: links that are not same-site relative: {bad}"
    for where, html, bad_bits in (("DOM", driver.page_source, DOM_UNESCAPED), ("HTML sent", raw, RAW_UNESCAPED)):
        if html is None:
            continue
        found = [s for s in bad_bits if s.lower() in html.lower()]
        assert not found, f"{label}: unescaped {found} in the {where}"
    assert probe["csp"] and "default-src 'none'" in probe["csp"][0], f"{label}: no script-forbidding CSP"
    return probe


# -- the pages ---------------------------------------------------------------------------------------------------
def test_campaign_list_links_every_flagged_campaign(site, browser):
    api = get_json(f"{site}/campaigns?flagged=true")
    assert api["total"] > 0 and api["items"], "the demo log should give flagged campaigns"
    open_page(browser, f"{site}/")
    assert h1(browser).startswith("Suspected campaigns") and f"({api['total']}" in h1(browser)
    shown = [a.text for a in links_under(browser, "/ui/campaigns/", "main table")]
    assert shown == [c["campaign_id"] for c in api["items"]], "the list should be the API's flagged campaigns, in order"
    hrefs = [a.get_dom_attribute("href") for a in links_under(browser, "/ui/campaigns/", "main table")]
    assert hrefs == [f"/ui/campaigns/{quote(c['campaign_id'], safe='')}" for c in api["items"]]
    assert len(browser.find_elements(By.CSS_SELECTOR, "main table .badge.flag")) == len(api["items"])
    shot(browser, "ui-campaign-list.png")


def test_campaign_page_from_the_list(site, browser):
    open_page(browser, f"{site}/")
    first = links_under(browser, "/ui/campaigns/", "main table")[0]
    cid = first.text
    click_through(browser, first)
    assert browser.current_url.endswith(f"/ui/campaigns/{quote(cid, safe='')}")
    assert cid in h1(browser) and "flagged" in h1(browser)
    api = get_json(f"{site}/campaigns/{quote(cid, safe='')}")

    labels = [s.get_dom_attribute("aria-label") for s in browser.find_elements(By.CSS_SELECTOR, ".plot svg")]
    assert any("prompts per hour" in x for x in labels), f"no timeline plot among {labels}"
    assert any("capability area" in x for x in labels), f"no areas plot among {labels}"
    timeline = browser.find_element(By.CSS_SELECTOR, '.plot svg[aria-label^="prompts per hour"]')
    assert timeline.size["width"] > 200 and timeline.size["height"] > 50, "the timeline plot is not laid out"
    assert browser.find_elements(By.CSS_SELECTOR, '.plot svg[aria-label*="capability area"] rect')

    # the demo's top campaign wraps its questions in shared templates; what varies is highlighted
    n_slots = sum(p["slot"] for t in api["templates"] for p in t["parts"])
    assert n_slots, f"campaign {cid} has no templated wrapper to show"
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tpl")) == len(api["templates"])
    slots = browser.find_elements(By.CSS_SELECTOR, ".tpl mark.slot")
    assert len(slots) == n_slots and slots[0].is_displayed() and slots[0].text.startswith("<")
    colour = slots[0].value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), "template slots are not highlighted"

    members = links_under(browser, "/ui/accounts/", "main table")
    assert len(members) == len(api["members"]["shown"]) > 0
    assert {m.text for m in members} == {m["account_id"] for m in api["members"]["shown"]}
    assert len(browser.find_elements(By.CSS_SELECTOR, "pre.prompt")) == len(api["samples"])
    shot(browser, "ui-campaign.png")


def test_member_account_to_prompt_to_neighbour(site, browser):
    cid = get_json(f"{site}/campaigns?flagged=true")["items"][0]["campaign_id"]
    open_page(browser, f"{site}/ui/campaigns/{quote(cid, safe='')}")
    member = links_under(browser, "/ui/accounts/", "main table")[0]
    aid = member.text
    click_through(browser, member)
    assert h1(browser).startswith(f"Account {aid}")
    assert browser.find_elements(By.CSS_SELECTOR, '.plot svg[aria-label^="prompts per hour"]')
    shot(browser, "ui-account.png")

    recent = links_under(browser, "/ui/prompts/", "main table")
    assert recent, f"account {aid} lists no recent prompts"
    pid = recent[0].text
    click_through(browser, recent[0])
    assert h1(browser) == f"Prompt {pid}"
    prompt = get_json(f"{site}/prompts/{quote(pid, safe='')}")
    assert browser.find_element(By.CSS_SELECTOR, "pre.prompt").text.strip() == prompt["text"].strip()
    assert browser.find_element(By.CSS_SELECTOR, f'main p a[href="/ui/accounts/{quote(aid, safe="")}"]').text == aid

    sim = get_json(f"{site}/prompts/{quote(pid, safe='')}/similar?k=10")
    for heading, kind in (("Near-duplicates", "near_duplicates"), ("Semantic neighbours", "semantic")):
        shown = [
            a.text for a in table_after(browser, heading).find_elements(By.CSS_SELECTOR, 'a[href^="/ui/prompts/"]')
        ]
        assert shown == [n["prompt_id"] for n in sim[kind]], f"{heading} on the page differ from the API's"
    assert sim["semantic"], "a campaign prompt should have semantic neighbours"
    shot(browser, "ui-prompt.png")

    table = table_after(browser, "Semantic neighbours")
    nxt = next(a for a in table.find_elements(By.CSS_SELECTOR, 'a[href^="/ui/prompts/"]') if a.text != pid)
    nid = nxt.text
    click_through(browser, nxt)
    assert h1(browser) == f"Prompt {nid}"
    assert browser.current_url.endswith(f"/ui/prompts/{quote(nid, safe='')}")
    want = get_json(f"{site}/prompts/{quote(nid, safe='')}")["text"].strip()
    assert browser.find_element(By.CSS_SELECTOR, "pre.prompt").text.strip() == want
    assert table_after(browser, "Semantic neighbours").find_elements(By.CSS_SELECTOR, "a")
    shot(browser, "ui-prompt-neighbour.png")


def test_cluster_map_and_cluster_pages(site, browser):
    cmap = get_json(f"{site}/cluster-map")["clusters"]
    assert cmap
    open_page(browser, f"{site}/ui/clusters")
    svg = browser.find_element(By.CSS_SELECTOR, ".plot svg")
    assert svg.size["width"] > 300 and svg.size["height"] > 200
    dots = svg.find_elements(By.CSS_SELECTOR, "a > circle")
    assert len(dots) == len(cmap), "one linked circle per cluster"
    fed = {c["campaign_id"] for c in cmap if c["campaign_id"]}
    assert fed, "flagged campaigns' clusters should be coloured on the map"
    legend = {t.get_attribute("textContent") for t in svg.find_elements(By.CSS_SELECTOR, "g > text")}
    if len(fed) <= 12:  # the legend names (up to 12 of) the flagged campaigns the clusters feed
        assert {c if len(c) <= 20 else c[:19] + "…" for c in fed} <= legend, f"legend {legend}"
    shot(browser, "ui-cluster-map.png")

    # the table's first link (the largest cluster)
    first = links_under(browser, "/ui/clusters/", "main table")[0]
    cid = int(first.text)
    click_through(browser, first)
    assert h1(browser) == f"Cluster {cid}"
    api = get_json(f"{site}/clusters/{cid}")
    assert len(browser.find_elements(By.CSS_SELECTOR, "pre.prompt")) == len(api["representatives"])
    for x in api["campaigns"]:
        assert browser.find_elements(By.CSS_SELECTOR, f'main a[href="/ui/campaigns/{quote(x, safe="")}"]')

    # a circle of the map: the one drawn last is on top of the others, so a real click lands on it
    browser.back()
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".plot svg a > circle")))
    anchors = browser.find_elements(By.CSS_SELECTOR, ".plot svg a")
    target = anchors[-1]
    href = target.get_dom_attribute("href")
    assert href and href.startswith("/ui/clusters/")
    click_through(browser, target.find_element(By.TAG_NAME, "circle"))
    assert browser.current_url.endswith(href)
    assert h1(browser) == f"Cluster {href.rsplit('/', 1)[1]}"
    shot(browser, "ui-cluster.png")


# -- hostile content ---------------------------------------------------------------------------------------------
def hostile_pages(site: str, hostile_ids: list[str]) -> list[tuple[str, str, dict]]:
    """(label, url, what must be shown as text) for every page hostile content reaches."""
    pages = []
    texts = dict(zip(hostile_ids, [*HOSTILE_TEXTS, None], strict=True))
    clusters: set[int] = set()
    for pid in hostile_ids:
        url = f"{site}/ui/prompts/{quote(pid, safe='')}"
        pages.append((f"prompt {pid!r}", url, {"h1": f"Prompt {pid}", "pre": texts[pid]}))
        try:
            p = get_json(f"{site}/prompts/{quote(pid, safe='')}")
        except urllib.error.HTTPError:
            continue  # the page check itself reports a prompt the app cannot find
        if p.get("cluster_id") is not None and p["cluster_id"] >= 0:
            clusters.add(int(p["cluster_id"]))
    pages.append(
        (
            "hostile account",
            f"{site}/ui/accounts/{quote(HOSTILE_ACCOUNT, safe='')}",
            {"h1": f"Account {HOSTILE_ACCOUNT}", "table": HOSTILE_TEXTS[0][:40]},
        )
    )
    for t in (HOSTILE_TEXTS[0], HOSTILE_TEXTS[1], HOSTILE_TEXTS[3]):
        pages.append((f"search {t[:30]!r}", f"{site}/ui/search?{urlencode({'text': t})}", {"textarea": t}))
    for c in sorted(clusters):
        pages.append((f"cluster {c}", f"{site}/ui/clusters/{c}", {"h1": f"Cluster {c}"}))
    pages.append(("every scored cohort", f"{site}/?all=1", {"h1": "Scored cohorts"}))
    pages.append(("cluster map", f"{site}/ui/clusters", {"h1": "Cluster map"}))
    pages.append(("topics", f"{site}/ui/topics", {"h1": "Topics"}))
    for t in sorted({get_json(f"{site}/clusters/{c}")["topic_id"] for c in clusters}):
        pages.append((f"topic {t}", f"{site}/ui/topics/{t}", {"h1": f"Topic {t}"}))
    bogus = '<img src=x onerror="window.__xss=7">'
    pages.append(("404 page", f"{site}/ui/prompts/{quote(bogus, safe='')}", {"h1": "404", "p": bogus}))
    return pages


def test_topics_walk_down_to_clusters_and_back(site, browser):
    """The tree: the topics page, a topic with its clusters, one of them, and back up through its topic link."""
    topics = get_json(f"{site}/topics")
    assert topics["total"] >= 1
    open_page(browser, f"{site}/ui/topics")
    first = links_under(browser, "/ui/topics/", "main table")[0]
    tid = int(first.text)
    assert tid == topics["items"][0]["topic_id"]  # largest first, as the API lists them
    click_through(browser, first)
    assert h1(browser) == f"Topic {tid}"
    listed = [int(a.text) for a in links_under(browser, "/ui/clusters/", "main table")]
    assert listed == get_json(f"{site}/topics/{tid}")["clusters"]
    click_through(browser, links_under(browser, "/ui/clusters/", "main table")[0])
    assert h1(browser) == f"Cluster {listed[0]}"
    up = browser.find_element(By.CSS_SELECTOR, f'p.topic a[href="/ui/topics/{tid}"]')
    click_through(browser, up)
    assert h1(browser) == f"Topic {tid}"
    shot(browser, "ui-topic.png")


def test_hostile_content_is_shown_as_text_and_never_runs(site, browser, served_store):
    pages = hostile_pages(site, served_store["hostile_ids"])
    assert len(pages) >= len(served_store["hostile_ids"]) + 6
    for label, url, want in pages:
        open_page(browser, url)
        assert_inert(browser, label, get_raw(url))
        if "h1" in want:
            assert h1(browser).startswith(want["h1"]), f"{label}: heading {h1(browser)!r}"
            assert not browser.find_elements(By.CSS_SELECTOR, "main h1 b"), f"{label}: markup from an id rendered"
        if want.get("pre"):
            shown = browser.find_element(By.CSS_SELECTOR, "pre.prompt")
            assert shown.is_displayed()
            assert shown.text.strip() == want["pre"].strip(), f"{label}: prompt text not shown as it is"
            assert "<" in shown.text
        if "textarea" in want:
            box = browser.find_element(By.CSS_SELECTOR, "main textarea")
            assert box.get_property("value") == want["textarea"], f"{label}: the query did not round-trip"
        if "table" in want:
            assert want["table"] in browser.find_element(By.CSS_SELECTOR, "main").text
        if "p" in want:
            assert want["p"] in browser.find_element(By.CSS_SELECTOR, "main").text
        if label.startswith("prompt 'hostile-0'"):
            shot(browser, "ui-xss-prompt.png")
        if label == "hostile account":
            # the account's recent prompts link to every hostile prompt (including the one with a hostile id)
            hrefs = {a.get_dom_attribute("href") for a in links_under(browser, "/ui/prompts/", "main table")}
            for pid in served_store["hostile_ids"]:
                assert f"/ui/prompts/{quote(pid, safe='')}" in hrefs, f"no link to {pid!r}"
            shot(browser, "ui-xss-account.png")


def test_hostile_prompt_links_resolve(site, browser, served_store):
    """A link the UI builds for a hostile prompt id (percent-encoded, '/' included) must open that prompt."""
    open_page(browser, f"{site}/ui/accounts/{quote(HOSTILE_ACCOUNT, safe='')}")
    by_text = {a.text: a for a in links_under(browser, "/ui/prompts/", "main table")}
    pid = served_store["hostile_ids"][-1]
    assert pid in by_text, f"the account page does not link {pid!r}"
    click_through(browser, by_text[pid])
    assert_inert(browser, "hostile prompt id page")
    assert h1(browser) == f"Prompt {pid}", f"the link to {pid!r} led to {h1(browser)!r}"


# -- the report --------------------------------------------------------------------------------------------------
class HostileState:
    """A snapshot's State whose campaign pages also carry hostile text (the demo's flagged campaigns hold none)."""

    def __init__(self, state) -> None:
        self._s = state

    def __getattr__(self, name):
        return getattr(self._s, name)

    def campaigns(self, **kw):
        page = self._s.campaigns(**kw)
        for c in page["items"]:
            c["reasons"] = [*c["reasons"], *HOSTILE_TEXTS]
        return page

    def campaign(self, campaign_id):
        from engine.app.views import template_parts

        c = self._s.campaign(campaign_id)
        c["samples"] = [*HOSTILE_TEXTS, *c["samples"]]
        c["reasons"] = [*c["reasons"], *HOSTILE_TEXTS]
        c["templates"] = [{"template": t, "parts": template_parts(t + " <SLOT>")} for t in HOSTILE_TEXTS] + c[
            "templates"
        ]
        c["members"]["shown"] = [dict(c["members"]["shown"][0], account_id=HOSTILE_ACCOUNT), *c["members"]["shown"]]
        c["areas"] = {**c["areas"], HOSTILE_TEXTS[1][:40]: 1}
        return c


def check_report(driver, path: Path, label: str, *, hostile: bool) -> dict:
    driver.get(path.as_uri())
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))
    probe = assert_inert(driver, label, path.read_text(encoding="utf-8"), relative_links="#")
    assert h1(driver).startswith("promptsim report")
    bad = [r for r in probe["resources"] if r and not r.startswith(("data:", "#"))]
    assert not bad, f"{label}: references outside the file: {bad}"
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == [], f"{label}: the report fetched {fetched}"
    # every in-report link points at a section of the same file
    dead = driver.execute_script(
        "return [...document.querySelectorAll('a[href^=\"#\"]')].map(a => a.getAttribute('href'))"
        ".filter(h => h.length > 1 && !document.getElementById(decodeURIComponent(h.slice(1))))"
    )
    assert not dead, f"{label}: links to sections that are not in the file: {dead}"
    sections = driver.find_elements(By.CSS_SELECTOR, "section.campaign")
    assert sections, f"{label}: no campaign sections"
    assert driver.find_elements(By.CSS_SELECTOR, "section.campaign .plot svg")
    assert driver.find_elements(By.CSS_SELECTOR, ".plot svg circle"), f"{label}: no cluster map"
    if hostile:
        pre = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "pre.prompt")]
        for t in HOSTILE_TEXTS:
            assert any(x.strip() == t.strip() for x in pre), f"{label}: {t[:30]!r} not shown as text"
        assert HOSTILE_ACCOUNT in driver.find_element(By.CSS_SELECTOR, "section.campaign").text
    return probe


def test_report_is_self_contained_and_inert(browser, served_store, tmp_path):
    from engine.app.report import html_report
    from engine.app.views import State
    from engine.app.web import report_html
    from engine.store import Store

    snap = Store(served_store["store"]).require()
    path = html_report(snap, tmp_path / "report.html")
    check_report(browser, path, "report", hostile=False)
    shot(browser, "report.png")

    hostile = tmp_path / "report-hostile.html"
    hostile.write_text(report_html(HostileState(State.open(snap)), max_campaigns=3), encoding="utf-8")
    check_report(browser, hostile, "report with hostile text", hostile=True)
    browser.execute_script(
        "arguments[0].scrollIntoView()", browser.find_element(By.CSS_SELECTOR, "section.campaign .tpl")
    )
    shot(browser, "report-hostile.png")


def test_labelling_from_the_campaign_page_with_a_hostile_note(browser, served_store, tmp_path):
    """An analyst labels a campaign from its page (the key once in the URL, then the cookie): the label shows on
    the page with its hostile note as text that never runs; the form's POST without its CSRF token is refused; a
    server without a key offers no form."""
    import hashlib
    import hmac

    import httpx

    from engine.store import Store
    from engine.store.tables import Tables
    from tests.conftest import LiveServer

    store = tmp_path / "store"
    shutil.copytree(served_store["store"], store)
    cid = Tables(Store(store).require()).campaigns(flagged_only=True).to_pylist()[0]["campaign_id"]
    page = f"/ui/campaigns/{quote(cid, safe='')}"
    note = HOSTILE_TEXTS[0]
    server = LiveServer(store, api_key="ui-key")
    try:
        browser.get(f"{server.url}/?key=ui-key")
        open_page(browser, server.url + page)
        form = browser.find_element(By.CSS_SELECTOR, "form.label-form")
        form.find_element(By.NAME, "verdict").send_keys("benign")
        form.find_element(By.NAME, "kind").send_keys("known-customer")
        form.find_element(By.NAME, "note").send_keys(note)
        form.find_element(By.NAME, "by").send_keys("analyst <b>one</b>")
        click_through(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert browser.current_url.endswith(page)
        shown = browser.find_element(By.XPATH, "//h2[normalize-space(.)='Labels']/following-sibling::ul[1]").text
        assert "benign (known-customer) by analyst <b>one</b>" in shown and note.strip()[:30] in shown
        shot(browser, "label-hostile-note.png")
        assert_inert(browser, "campaign page with a hostile label note")
        with httpx.Client(base_url=server.url, headers={"X-API-Key": "ui-key"}) as c:
            form_data = {"verdict": "confirmed", "by": "mallory"}
            refused = c.post(f"{page}/labels", data=form_data)
            assert refused.status_code == 403 and "CSRF" in refused.text
            token = hmac.new(b"ui-key", b"promptsim-ui-form", hashlib.sha256).hexdigest()
            assert c.post(f"{page}/labels", data={**form_data, "csrf": token}).status_code == 303
    finally:
        server.close()
    keyless = LiveServer(store)
    try:
        open_page(browser, keyless.url + page)
        assert not browser.find_elements(By.CSS_SELECTOR, "form.label-form")
        assert "needs a server started with an API key" in browser.page_source
    finally:
        keyless.close()
