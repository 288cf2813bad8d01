"""Evidence in words: the reasons a cohort was scored high and the mitigations that lowered it.

Each line carries its numbers, so an analyst can check it against the campaign page. A line is said only when its
evidence is worth reading; these display thresholds decide what is *said*, not what is scored (that is
``engine.detect.settings``).
"""

from __future__ import annotations

import numpy as np

from engine.detect.evidence import Behaviour, Content, Discounts, Provenance
from engine.detect.signals import AREAS

#: reason lines are shown when: the sign-up burst's chance is below this
SAY_BURST_P = 1e-3
#: ... this share of prompts carries shared wrapper text
SAY_WRAPPED = 0.3
#: ... the ASN count is below this share of what the log would give this many accounts
SAY_FEW_ASN = 0.5
#: ... this share of prompts is a capability probe
SAY_CAPABILITY = 0.3
#: ... this share of prompts asks for reasoning, grading or refusals
SAY_MARKER = 0.2
#: ... this share of busy accounts run a machine clock
SAY_CLOCK = 0.5
#: ... volume is this many times the log's median
SAY_VOLUME = 3.0
#: ... the model-mix evidence is at least this
SAY_MIX = 0.5
#: a mitigation says "ordinary content" when provenance and content are both below these
ORDINARY_PROVENANCE, ORDINARY_CONTENT = 0.2, 0.4
#: a mitigation says "only N accounts" below this
FEW_ACCOUNTS = 10

_MARKER_WORDS = (
    ("reasoning", "ask for step-by-step reasoning"),
    ("grading", "ask the model to grade an answer"),
    ("refusal", "probe refusals"),
)


def reasons(
    n: int, n_prompts: int, wrapped: float, top_template: float, prov: Provenance, cont: Content, beh: Behaviour,
    carried: dict[str, float], min_accounts_for_asn: int,
) -> list[str]:  # fmt: skip
    """Human-readable evidence lines, strongest first, each with its numbers.

    The second line says which evidence families carried the score (weight x evidence of each), so an analyst
    sees at once whether content, behaviour or provenance made the case."""
    out = [f"{n} accounts, {n_prompts:,} prompts"]
    order = sorted(carried, key=lambda k: -carried[k])
    out.append(
        "carried by " + ", ".join(f"{k} {carried[k]:.2f}" for k in order) + f" (sum {sum(carried.values()):.2f})"
    )
    b = prov.burst
    if b.accounts >= 2 and b.p_value < SAY_BURST_P:
        out.append(
            f"{b.accounts / n:.0%} of accounts created within {b.days:.0f} days "
            f"(chance under the log's sign-up rate {max(b.p_value, 1e-300):.0e}); {prov.young:.0%} under 30 days old"
        )
    if wrapped >= SAY_WRAPPED:
        out.append(
            f"{wrapped:.0%} of prompts carry wrapper text shared across accounts; its commonest sentence is in "
            f"{top_template:.0%}"
        )
    if prov.shared_pay > 0:
        out.append(f"{prov.shared_pay:.0%} of accounts share a payment fingerprint ({prov.n_cards} cards)")
    if n >= min_accounts_for_asn and prov.n_asn < SAY_FEW_ASN * prov.expected_asn:
        out.append(f"{prov.n_asn} network ASNs where {prov.expected_asn:.0f} would be expected for {n} accounts")
    if cont.probe >= SAY_CAPABILITY:
        out.append(
            f"mean probe probability {cont.probe:.0%}; the average question is also sent by {cont.shared_pool:.0%} of "
            "the other accounts (a sweep split between accounts is near 0%, a course or viral prompt far above)"
        )
    if beh.mix >= SAY_MIX:
        out.append(f"model mix {beh.mix_distance:.0%} (total variation) away from the median account's")
    if cont.capability_share >= SAY_CAPABILITY:
        hist = cont.areas
        names = [*AREAS, "languages"]
        top = [f"{names[i]} {hist[i] / max(hist.sum(), 1):.0%}" for i in np.argsort(-hist)[:4] if hist[i] > 0]
        out.append(
            f"{cont.capability_share:.0%} of prompts are capability probes over {cont.covered} areas ({', '.join(top)})"
        )
    for name, label in _MARKER_WORDS:
        if cont.marker_shares.get(name, 0) >= SAY_MARKER:
            out.append(f"{cont.marker_shares[name]:.0%} of prompts {label}")
    if beh.eligible and beh.flat >= SAY_CLOCK:
        out.append(f"{beh.flat:.0%} of busy accounts send round the clock (no quiet 6 hours in the day)")
    if beh.eligible and beh.lockstep >= SAY_CLOCK:
        out.append(f"{beh.lockstep:.0%} of busy accounts fire at the same minute of the hour (lockstep)")
    if beh.volume_ratio >= SAY_VOLUME:
        out.append(f"median {beh.per_day:.1f} requests per account per day, {beh.volume_ratio:.0f}x the log's median")
    return out


def mitigations(n: int, prov: Provenance, cont: Content, disc: Discounts) -> list[str]:
    """Why a cohort may be legitimate, in the words an analyst would use."""
    out = []
    if disc.one_old_org:
        out.append(
            f"{disc.top_org_share:.0%} of accounts in one org, median account age {disc.median_age:.0f} days: "
            "looks like one customer's own traffic (eval harness, classroom, team)"
        )
    if disc.distinct < 1:
        out.append(
            f"its five commonest texts are {disc.top_share:.0%} of its prompts: one prompt copied by many "
            "(viral prompt, homework)"
        )
    if cont.breadth < 1:
        out.append(
            f"the average question is also sent by {cont.shared_pool:.0%} of its other accounts: one shared pool of "
            "questions (a course, a classroom), not a sweep"
        )
    if n < FEW_ACCOUNTS:
        out.append(f"only {n} accounts")
    if prov.evidence < ORDINARY_PROVENANCE and cont.evidence < ORDINARY_CONTENT:
        out.append("ordinary content from accounts of all ages: a product's or users' shared prompt")
    return out
