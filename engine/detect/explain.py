"""Evidence in words: the reasons a cohort was scored high and the mitigations that lowered it.

Each line carries its numbers, so an analyst can check it against the campaign page. A line is said only when its
evidence is worth reading; these display thresholds decide what is *said*, not what is scored (that is
``engine.detect.settings``).
"""

from __future__ import annotations

import numpy as np

from engine.detect.evidence import Behaviour, Content, Discounts, Population, Provenance, evidence_of
from engine.detect.null import Surprise
from engine.detect.settings import DetectSettings
from engine.detect.signals import AREAS

_MARKER_WORDS = {
    "reasoning": "ask for step-by-step reasoning",
    "grading": "ask the model to grade an answer",
    "refusal": "probe refusals",
    "foreign": "are not in English",
}


def _versus(x: Surprise, n: int, pct: bool = True) -> str:
    """'54% where random sets of 400 of this log's accounts give 27% (z 20, 1.0 spreads)'."""
    fmt = (lambda v: f"{v:.0%}") if pct else (lambda v: f"{v:.2f}")
    return (
        f"{fmt(x.observed)} where random sets of {n:,} of this log's accounts give {fmt(x.expected)} "
        f"(z {x.z:.0f}, {x.d:.1f} spreads)"
    )


def reasons(
    n: int, n_prompts: int, wrapped: float, top_template: float, prov: Provenance, cont: Content, beh: Behaviour,
    carried: dict[str, float], pop: Population, s: DetectSettings, tool_sets: list[dict] | None = None,
) -> list[str]:  # fmt: skip
    """Human-readable evidence lines, strongest first, each with its numbers.

    ``tool_sets``: the tool-schema sets its accounts send (``accounts`` of the cohort, ``log_accounts`` in all,
    ``tools`` their names), commonest first, as the campaign's evidence holds them.

    The second line says which evidence families carried the score (weight x evidence of each), so an analyst
    sees at once whether content, behaviour or provenance made the case; each statistic is said against what random
    sets of the log's accounts of the same sizes show (its surprise z and its effect in spreads)."""
    out = [f"{n} accounts, {n_prompts:,} prompts"]
    order = sorted(carried, key=lambda k: -carried[k])
    out.append(
        "carried by " + ", ".join(f"{k} {carried[k]:.2f}" for k in order) + f" (sum {sum(carried.values()):.2f})"
    )
    b = prov.burst
    if b.accounts >= 2 and b.p_value < s.say_burst_p:
        out.append(
            f"{b.accounts / n:.0%} of accounts created within {b.days:.0f} days "
            f"(chance under the log's sign-up rate {max(b.p_value, 1e-300):.0e}); {prov.young:.0%} under "
            f"{s.young_days:.0f} days old"
        )
    if evidence_of(prov.burner, s) >= s.say_evidence:
        out.append(
            f"made at most {s.burner_fresh_days:g} day before first use and gone within {s.burner_life_days:g} days "
            f"while the log went on: {_versus(prov.burner, n)} of accounts"
        )
    if evidence_of(prov.sleeper, s) >= s.say_evidence:
        out.append(
            f"woke after at least {s.sleeper_days:g} days without a request: {_versus(prov.sleeper, n)} of accounts"
        )
    if wrapped >= s.say_wrapped:
        out.append(
            f"{wrapped:.0%} of prompts carry wrapper text shared across accounts; its commonest sentence is in "
            f"{top_template:.0%}"
        )
    top = (tool_sets or [None])[0]
    if top is not None and top["accounts"] >= 2 and top["accounts"] >= s.say_wrapped * n:
        names = ", ".join(top["tools"][:6]) + (", ..." if len(top["tools"]) > 6 else "")
        out.append(
            f"{top['accounts'] / n:.0%} of accounts send one tool-schema set ({names}); "
            f"{top['log_accounts'] - top['accounts']} accounts outside the cohort send it"
        )
    if prov.shared_pay > 0:
        out.append(f"{prov.shared_pay:.0%} of accounts share a payment fingerprint ({prov.n_cards} cards)")
    if n >= s.min_accounts_for_asn and prov.n_asn < s.say_few_asn * prov.expected_asn:
        kind = "client networks (/24 or /48 address prefixes: no ASN database)" if prov.by_prefix else "network ASNs"
        out.append(f"{prov.n_asn} {kind} where {prov.expected_asn:.0f} would be expected for {n} accounts")
    if cont.parts.get("probe", 0) >= s.say_evidence:
        out.append(
            f"mean probe probability {_versus(cont.surprise['probe'], n)}; {cont.distinct:.0%} of its prompts are "
            "distinct questions (a sweep; a course or viral prompt asks a few again and again)"
        )
    for name, label in _MARKER_WORDS.items():
        if cont.parts.get(name, 0) >= s.say_evidence and (
            name == "foreign"
            or cont.parts.get("probe", 0) >= s.say_evidence
            or cont.parts.get(f"payload:{name}", 0) >= s.say_evidence
        ):
            out.append(f"{label[0].upper()}{label[1:]}: {_versus(cont.surprise[name], n)} of prompts")
    if beh.parts.get("adoption", 0) >= s.say_evidence and pop.new_model is not None:
        nm = pop.new_model
        out.append(
            f"moved to {nm.name} (released in the window) at once: {_versus(beh.adoption, n)} of requests in the "
            f"first hours after its release; {beh.adopted:.0%} of its active accounts used it"
        )
    if beh.parts.get("model_choice", 0) >= s.say_evidence:
        out.append(f"requests to {beh.choice_model}: {_versus(beh.choice, n)}")
    if cont.capability_share >= s.say_capability:
        hist = cont.areas
        names = [*AREAS, "languages"]
        top = [f"{names[i]} {hist[i] / max(hist.sum(), 1):.0%}" for i in np.argsort(-hist)[:4] if hist[i] > 0]
        out.append(
            f"{cont.capability_share:.0%} of prompts are capability probes over {cont.covered} areas ({', '.join(top)})"
        )
    if beh.parts.get("clock", 0) >= s.say_evidence:
        out.append(
            f"machine clocks (round the clock {beh.flat:.0%}, same minute of the hour {beh.lockstep:.0%} of busy "
            f"accounts): {_versus(beh.clock, beh.eligible)}"
        )
    if beh.parts.get("own_wrappers", 0) >= s.say_evidence:
        out.append(
            "each account wraps its capability questions the same way every time, in a wrapper of its own (the same "
            "opening or closing words on each account, different between accounts: no wrapper text links them): "
            f"probe-weighted share of prompts {_versus(beh.own, n)}"
        )
    if beh.parts.get("volume", 0) >= s.say_evidence:
        out.append(
            f"median {beh.per_day:.1f} requests per account per active day; log10 requests an active day "
            f"{_versus(beh.volume, n, pct=False)}"
        )
    return out


def mitigations(
    n: int, prov: Provenance, cont: Content, beh: Behaviour, disc: Discounts, profiled: tuple[int, int],
    s: DetectSettings, typical: int | None = None, scores_as_campaign: bool = False, tied: bool = True,
) -> list[str]:  # fmt: skip
    """Why a cohort may be legitimate, or why the engine cannot say more, in the words an analyst would use.

    For a cohort that ``scores_as_campaign`` (at least the flag score), what the engine could not judge:
    ``profiled`` is (its members with a profile, the log's profiled accounts) -- under three of its own, or with no
    other account to compare with, how typical a member is of it is unknown (no evidence, not a guess); ``typical``
    is its members typical enough of it to be flagged with it -- fewer than ``s.min_cohort`` are no campaign;
    ``tied``: a trace of one operator ties its members -- untied, it is no campaign
    (``engine.detect.campaigns.score_cohorts``). Said
    only there: on a cohort scored far below the flag they would push out the reasons that matter."""
    out = []
    own, log = profiled
    if scores_as_campaign and (own < 3 or log <= own):
        out.append(
            f"too few profiled accounts to compare ({own} of its {n} accounts profiled, {log} in the log): how "
            "typical each member is of it is judged by its prompts alone"
        )
    if scores_as_campaign and typical is not None and typical < s.min_cohort:
        out.append(f"only {typical} of its {n} accounts are typical of it: fewer than {s.min_cohort} make no campaign")
    if scores_as_campaign and not tied:
        out.append(
            f"nothing but behaving alike ties its {n} accounts: no wrapper, card, sign-up burst, lifecycle or "
            "region of prompt space that most of them share. Accounts chosen for being alike and unlike the log "
            "are a kind of user (scripted evaluators, homework askers), not one operation"
        )
    if disc.transparent == "ordinary":
        out.append(
            f"{disc.top_org_share:.0%} of accounts or prompts in one org or on one card, asking what this log's "
            f"accounts ordinarily ask (content evidence {cont.evidence:.2f}): looks like one organisation's own "
            "traffic (a team, a course, a customer's product)"
        )
    elif disc.transparent == "old":
        out.append(
            f"{disc.top_org_share:.0%} of accounts or prompts in one org, its median account age "
            f"{disc.median_age:.0f} days: "
            "looks like a long-standing customer's own traffic (an evaluation harness)"
        )
    if disc.distinct < 1:
        out.append(
            f"its five commonest texts are {disc.top_share:.0%} of its prompts: one prompt copied by many "
            "(viral prompt, homework)"
        )
    if cont.breadth < 0.5:
        out.append(
            f"{cont.distinct:.0%} of its prompts are distinct questions and the average question is also sent by "
            f"{cont.shared_pool:.0%} of its other accounts: one shared pool of questions (a course, a classroom), "
            "not a sweep"
        )
    if n < s.say_few_accounts:
        out.append(f"only {n} accounts")
    if prov.evidence < s.say_ordinary_provenance and cont.evidence < s.say_ordinary_content:
        if max(cont.parts.values(), default=0.0) < s.say_evidence:
            out.append("asks what random sets of this log's accounts ask: a crowd that shares one coincidence")
        else:
            out.append("ordinary content from accounts of all ages: a product's or users' shared prompt")
    return out
