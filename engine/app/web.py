"""HTML pages of the web UI and the one-file HTML report, rendered server-side from the view dicts.

Why server-side and script-free: the UI must work offline (no CDN) and the report must open from a mail or a ticket
as one file, so plots are inline SVG (engine.app.plots) and pages are Jinja2 templates (engine/app/templates) with
autoescaping on. Prompt text is hostile: it only ever reaches a page through autoescape, hrefs are built here from
ids with percent-encoding under a fixed path (never from text), plots escape their own labels, and every page
carries a Content-Security-Policy that forbids scripts, so even a missed escape could not run one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from engine.app import plots
from engine.app.query import iso
from engine.app.views import State

ENV = Environment(
    loader=PackageLoader("engine.app", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: account fields the account page lists under "signals and attributes"
ACCOUNT_FIELDS = (
    "created_at", "org_id", "payment_fp", "country", "tier", "prompts", "per_day", "active_days", "first_seen",
    "last_seen", "capability_share",
    "marker_share", "member_strength", "cohort_id",
)  # fmt: skip
PAGE = 50


def _q(v: object) -> str:
    return quote(str(v), safe="")


class Links:
    """Where a page links to: the server's pages (``/ui/...``), percent-encoded ids under fixed paths."""

    report = False

    def home(self) -> str:
        return "/"

    def campaign(self, cid: object) -> str | None:
        return f"/ui/campaigns/{_q(cid)}"

    def account(self, aid: object) -> str | None:
        return f"/ui/accounts/{_q(aid)}"

    def prompt(self, pid: object) -> str | None:
        return f"/ui/prompts/{_q(pid)}"

    def cluster(self, cid: object) -> str | None:
        return f"/ui/clusters/{_q(cid)}"

    def topic(self, tid: object) -> str | None:
        return f"/ui/topics/{_q(tid)}"


class ReportLinks(Links):
    """The standalone report: campaigns are sections of the same file; accounts, prompts and clusters are not in
    it, so they are plain text (a dead link in a mailed file helps nobody)."""

    report = True

    def home(self) -> str:
        return "#top"

    def campaign(self, cid: object) -> str | None:
        return f"#c-{_q(cid)}"

    def account(self, aid: object) -> str | None:
        return None

    def prompt(self, pid: object) -> str | None:
        return None

    def cluster(self, cid: object) -> str | None:
        return None

    def topic(self, tid: object) -> str | None:
        return None


def _render(name: str, state: State, link: Links, **ctx: object) -> str:
    return ENV.get_template(name).render(snapshot=state.name, link=link, report=link.report, **ctx)


def _timeline_svg(tl: dict, title: str) -> Markup:
    """The timeline plot from a view's counts, drawn as binned (``views._timeline``)."""
    t0 = int(datetime.fromisoformat(tl["start"].replace("Z", "+00:00")).timestamp()) if tl["start"] else 0
    return Markup(plots.timeline_bars(t0, tl["bin_seconds"], tl["counts"], title=title))


def _campaign_plots(c: dict) -> dict[str, Markup]:
    nights = c["history"]["nights"]
    areas = sorted(c["areas"].items(), key=lambda kv: -kv[1])
    return {
        "timeline": _timeline_svg(c["timeline"], "prompts per hour, flagged members"),
        "nights": Markup(
            plots.bars([n["night"] for n in nights], [n["prompts"] for n in nights], title="prompts per night")
        )
        if nights
        else Markup(""),
        "areas": Markup(plots.bars([a for a, _ in areas], [v for _, v in areas], title="prompts per capability area")),
    }


def _map_svg(state: State, link: Links) -> Markup:
    cl = state.cluster_map()["clusters"]
    return Markup(
        plots.scatter(
            np.array([c["x"] for c in cl]),
            np.array([c["y"] for c in cl]),
            np.array([c["prompts"] for c in cl]),
            [c["campaign_id"] or "" for c in cl],
            [
                f"cluster {c['cluster_id']}"
                + (f" (topic {c['topic_id']})" if c.get("topic_id") is not None else "")
                + f": {c['prompts']:,} prompts"
                for c in cl
            ],
            [link.cluster(c["cluster_id"]) for c in cl],
            title="clusters (PCA of centroids)",
        )
    )


# -- pages of the server -----------------------------------------------------------------------------------------
def campaigns_page(state: State, *, include_all: bool = False, offset: int = 0) -> str:
    page = state.campaigns(flagged=None if include_all else True, limit=PAGE, offset=offset)
    return _render("campaigns.html", state, Links(), page=page, include_all=include_all, diff=state.diff())


def campaign_page(state: State, campaign_id: str, case: dict | None = None) -> str:
    """``case``: the labels and the label form (``casework_panel``); None leaves them out."""
    c = state.campaign(campaign_id)
    return _render("campaign.html", state, Links(), c=c, plots=_campaign_plots(c), case=case)


def account_page(state: State, account_id: str, case: dict | None = None) -> str:
    acc = state.account(account_id)
    plots_ = {"timeline": _timeline_svg(acc["timeline"], "prompts per hour")}
    return _render("account.html", state, Links(), acc=acc, plots=plots_, fields=ACCOUNT_FIELDS, case=case)


def casework_panel(labels: list[dict], action: str, csrf: str, why_not: str = "") -> dict:
    """What the labels section of a campaign or account page shows: its labels, oldest first, and the form
    (posting to ``action`` with the CSRF token), or why there is no form (``why_not``: a read-only server)."""
    from engine.detect.casework import BENIGN_KINDS, VERDICTS

    return {"labels": labels, "action": action, "csrf": csrf, "writable": not why_not, "why_not": why_not,
            "verdicts": VERDICTS, "kinds": BENIGN_KINDS}  # fmt: skip


def prompt_page(state: State, prompt_id: str, k: int = 10) -> str:
    p = state.prompt(prompt_id)
    return _render("prompt.html", state, Links(), p=p, sim=state.similar(prompt_id, k))


def search_page(state: State, *, text: str = "", prompt_id: str = "", k: int = 10) -> str:
    text = text.strip()
    # one word that is a stored prompt id: its page, with its neighbours, says more than a search for the word
    one_id = bool(text) and " " not in text
    if not prompt_id and one_id and (state.searcher.prompt_row(text) is not None or state.tables.prompt(text)):
        prompt_id = text
    if prompt_id:
        return prompt_page(state, prompt_id, k)
    sim = state.similar_text(text, k) if text else None
    return _render("search.html", state, Links(), text=text, sim=sim)


def clusters_page(state: State, *, offset: int = 0) -> str:
    page = state.clusters(limit=PAGE, offset=offset)
    return _render("clusters.html", state, Links(), page=page, plots={"map": _map_svg(state, Links())})


def topics_page(state: State, *, offset: int = 0) -> str:
    return _render("topics.html", state, Links(), page=state.topics(limit=PAGE, offset=offset))


def topic_page(state: State, topic_id: int) -> str:
    return _render("topic.html", state, Links(), t=state.topic(topic_id))


def cluster_page(state: State, cluster_id: int) -> str:
    return _render("cluster.html", state, Links(), c=state.cluster(cluster_id))


def error_page(code: int, message: str) -> str:
    return ENV.get_template("error.html").render(snapshot="", link=Links(), report=False, code=code, message=message)


# -- the report ----------------------------------------------------------------------------------------------
def report_html(state: State, *, max_campaigns: int = 100) -> str:
    """One self-contained page: the ranked campaigns, the cluster map and every flagged campaign's page."""
    link = ReportLinks()
    page = state.campaigns(flagged=True, limit=max_campaigns)
    campaigns = []
    for item in page["items"]:
        c = state.campaign(item["campaign_id"])
        campaigns.append({"c": c, "plots": _campaign_plots(c)})
    return _render(
        "report.html",
        state,
        link,
        page=page,
        campaigns=campaigns,
        diff=state.diff(),
        map=_map_svg(state, link),
        health=state.health(),
        generated=iso(datetime.now(timezone.utc)),
    )
