"""Stage 8b: link accounts into cohorts, score each cohort as a possible extraction campaign, explain it.

No single account of a distillation campaign looks abusive; the campaign does. So the unit we score is a *cohort*:
accounts joined by what one operator leaves behind in many accounts at once:

* the same wrapper sentences around varying questions (template segments mined from the log, weighted by how
  rare they are across accounts: a stock "You are a helpful assistant." links less than a bespoke instruction);
* shared payment fingerprints.

A cohort is a connected component of that graph. It is scored from independent lines of evidence, each measured
against the log's own bulk traffic rather than fixed thresholds learned from labels:

* **provenance**: accounts created in a burst (binomial tail of the densest 7-day window against the creation
  rate of all accounts), payment cards shared across accounts, few network ASNs for many accounts;
* **content**: share of payloads that are capability probes (project taxonomy), how many areas they sweep,
  and requests for reasoning, grading or refusal explanations;
* **behaviour**: round-the-clock or lockstep clocks, volume per account above the bulk median.

Legitimate look-alikes come out low for reasons an analyst recognises, and those reasons are recorded: one org
of old accounts (a customer's eval harness or classroom), one text copied by many (a viral prompt), ordinary
content from accounts of all ages on human clocks (a SaaS product, stock system prompts).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import hdbscan
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.stats import binom

from engine.detect.signals import AREAS, AccountSignals, Context, account_signals, text_signals
from engine.ingest.records import epoch_seconds
from engine.text.normalize import hash64
from engine.text.templates import SLOT
from engine.vectors.cluster import BRIDGE_DISTANCE, bridge_components

#: accounts whose wrapper-sentence profiles are at least this similar are linked. 0.4 rather than 0.5 keeps
#: accounts of a campaign with 50% cover traffic linked to it (holdout-a stealth 42 -> 54 of 70 flagged) while no
#: benign cohort on the public, nightly or holdout logs came above 0.47 of the 0.6 flag score.
LINK_COSINE = 0.4
ACCOUNT_KNN = 30
MIN_ACCOUNT_CLUSTER = 5
PAYMENT_DISTANCE = 0.2
FLAG_SCORE = 0.6
MIN_COHORT = 3
#: an account is flagged with its cohort when at least this typical of it (see member strength in ``detect``)
MIN_MEMBER_STRENGTH = 0.5
BURST_SCALES = (3.0, 7.0, 30.0, 60.0)
MERGE_BURST_DAYS = 2.0
#: HDBSCAN keeps account groups closer than this (cosine distance) whole. 0.5 fused slow-drip campaigns with
#: ordinary users through chains of weak links (holdout-b: 0/6 found); 0.2 keeps them apart (3/6 partly found)
#: while no public or holdout-a campaign is split.
COHORT_EPSILON = 0.2
MIN_PROMPTS_FOR_CLOCK = 15
#: a singleton account's own evidence is capped here: alone it can be ranked, never flagged as a campaign
SOLO_CAP = 0.35


@dataclass
class Verdicts:
    accounts: pa.Table
    campaigns: pa.Table

    def with_ids(self, stable: dict[str, str], continued: set[str] = frozenset()) -> Verdicts:
        """Tonight's cohort ids replaced by the campaigns' stable ids (engine.detect.history).

        ``continued`` are cohorts below the flag score that continue a campaign already known: a campaign keeps
        its flag while its evidence stays above CONTINUE_SCORE, so it does not flicker on and off night to night.
        """
        camps = self.campaigns
        if continued:
            on = np.isin(np.array(camps["campaign_id"].to_pylist(), dtype=object), list(continued))
            camps = camps.set_column(
                camps.schema.get_field_index("flagged"),
                "flagged",
                pa.array(np.array(camps["flagged"].to_pylist()) | on),
            )
        acc = self.accounts
        cohort = np.array(acc["cohort_id"].to_pylist(), dtype=object)
        join = np.isin(cohort, list(continued)) & (acc["member_strength"].to_numpy() >= MIN_MEMBER_STRENGTH)
        flagged = np.array(acc["flagged"].to_pylist()) | join
        camp = np.where(join, cohort, np.array(acc["campaign_id"].to_pylist(), dtype=object))
        acc = acc.set_column(acc.schema.get_field_index("flagged"), "flagged", pa.array(flagged))
        acc = acc.set_column(
            acc.schema.get_field_index("campaign_id"), "campaign_id", pa.array(camp.tolist(), pa.string())
        )

        def remap(tbl: pa.Table, col: str) -> pa.Table:
            ids = [stable.get(c, c) for c in tbl[col].to_pylist()]
            return tbl.set_column(tbl.schema.get_field_index(col), col, pa.array(ids, pa.string()))

        return Verdicts(remap(remap(acc, "campaign_id"), "cohort_id"), remap(camps, "campaign_id"))


# -- linking ---------------------------------------------------------------------------------------------------


def _segment_matrix(ctx: Context) -> sp.csr_matrix:
    """(distinct texts x template segments) binary matrix; segments of under two words or only slots are dropped."""
    seg_id: dict[str, int] = {}
    rows, cols = [], []
    for i, tmpl in enumerate(ctx.template):
        if not tmpl:
            continue
        for s in dict.fromkeys(tmpl.split(" | ")):  # ordered: segment ids must not depend on hash seeds
            words = [w for w in s.split() if not w.startswith("<")]
            if s == SLOT or len(words) < 2:
                continue
            rows.append(i)
            cols.append(seg_id.setdefault(s, len(seg_id)))
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(ctx.template), max(len(seg_id), 1)))


def account_segment_weights(ctx: Context, n_prompts: np.ndarray, t: sp.csr_matrix) -> sp.csr_matrix:
    """Rows: accounts; columns: wrapper segments; L2-normalised tf-idf of the segments in the account's prompts.

    Each prompt carries a total weight of one, split over its segments, so a long text pasted by two people (thirty
    shared sentences) counts as one shared prompt, not thirty, and cannot outweigh a wrapper used all night.
    """
    n_acc = len(n_prompts)
    per_text = np.asarray(t.sum(axis=1)).ravel()
    t_norm = sp.diags(1 / np.maximum(per_text, 1)) @ t
    p = sp.csr_matrix(
        (np.ones(len(ctx.text_row), dtype=np.float32), (ctx.account_codes, ctx.text_row)),
        shape=(n_acc, t.shape[0]),
    )
    a = (p @ t_norm).tocsr()
    acc_per_seg = np.asarray((a > 0).sum(axis=0)).ravel()
    idf = np.log((n_acc + 1) / (acc_per_seg + 1))
    a = sp.diags(1 / np.maximum(n_prompts, 1)) @ a @ sp.diags(idf)
    norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    return (sp.diags(1 / np.maximum(norms, 1e-12)) @ a).tocsr()


def link_accounts(ctx: Context, acc: AccountSignals, t: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """Cohort label per account (-1: none): HDBSCAN over the account graph of shared wrappers and payment cards.

    The same density clustering as for texts, on a different graph: each account's nearest accounts by wrapper
    cosine (kept when >= LINK_COSINE) plus an edge between accounts that pay with one card. Unlike connected
    components, one account that shares a little with two groups does not fuse them: it becomes noise or joins one.
    """
    n_acc = len(acc.n_prompts)
    w = account_segment_weights(ctx, acc.n_prompts, t)
    rows, cols, dist = [], [], []
    k = ACCOUNT_KNN
    for start in range(0, n_acc, 2000):
        s = (w[start : start + 2000] @ w.T).tocsr()
        for i in range(s.shape[0]):
            lo, hi = s.indptr[i], s.indptr[i + 1]
            if hi == lo:
                continue
            vals, idx = s.data[lo:hi], s.indices[lo:hi]
            keep = (vals >= LINK_COSINE) & (idx != start + i)
            vals, idx = vals[keep], idx[keep]
            if len(vals) > k:
                top = np.lexsort((idx, -vals))[:k]  # ties broken by account index: the same graph every run
                vals, idx = vals[top], idx[top]
            rows.append(np.full(len(idx), start + i))
            cols.append(idx)
            dist.append(1.0 - vals)
    pay = acc.payment.astype(str)
    has = pay != ""
    if has.any():
        idx = np.flatnonzero(has)
        order = idx[np.argsort(pay[idx], kind="stable")]
        same = pay[order[1:]] == pay[order[:-1]]
        rows.append(order[1:][same])
        cols.append(order[:-1][same])
        dist.append(np.full(int(same.sum()), PAYMENT_DISTANCE))
    if not rows:
        return np.full(n_acc, -1, np.int64), w
    r, c, d = np.concatenate(rows), np.concatenate(cols), np.concatenate(dist)
    linked = np.unique(np.concatenate([r, c]))
    if len(linked) < MIN_COHORT:
        return np.full(n_acc, -1, np.int64), w
    remap = np.full(n_acc, -1, np.int64)
    remap[linked] = np.arange(len(linked))
    g = sp.csr_matrix((np.clip(d, 0, 2) + 1e-6, (remap[r], remap[c])), shape=(len(linked), len(linked)))
    g = g.maximum(g.T).tocsr()
    g = bridge_components(g)
    model = hdbscan.HDBSCAN(
        metric="precomputed",
        min_cluster_size=MIN_ACCOUNT_CLUSTER,
        min_samples=2,
        max_dist=BRIDGE_DISTANCE,
        cluster_selection_epsilon=COHORT_EPSILON,
    ).fit(g)
    labels = np.full(n_acc, -1, np.int64)
    labels[linked] = model.labels_
    return labels, w


# -- scoring ---------------------------------------------------------------------------------------------------


def _burst(created: np.ndarray, all_created: np.ndarray) -> tuple[float, int, float, float, float]:
    """Evidence that a cohort's accounts were created in a burst: (evidence, accounts, start, days, p-value).

    At each of BURST_SCALES the densest window of the cohort's sign-ups is compared with the share of all other
    accounts created in that same window (a binomial tail), so 250 accounts made in three days stand out, and so
    do 70 made over six weeks, while ordinary users who happened to sign up the same month do not. The evidence is
    scaled by the share of the cohort inside the window (a window holding 6% of a cohort says little about it),
    and the strongest scale wins.
    """
    c = np.sort(created[~np.isnan(created)])
    pop = np.sort(all_created[~np.isnan(all_created)])
    best = (0.0, len(c), float("nan"), 0.0, 1.0)
    if len(c) < 2 or len(pop) <= len(c):
        return best
    for days in BURST_SCALES:
        w = days * 86400
        counts = np.searchsorted(c, c + w, side="right") - np.arange(len(c))
        i = int(np.argmax(counts))
        m, start = int(counts[i]), float(c[i])
        in_window = np.searchsorted(pop, start + w, side="right") - np.searchsorted(pop, start)
        p_null = min(1.0, max(in_window - m, 1) / (len(pop) - len(c)))
        p = float(binom.sf(m - 1, len(c), p_null))
        ev = min(1.0, -math.log10(max(p, 1e-300)) / 8.0) * min(1.0, 2 * m / len(c))
        if ev > best[0]:
            best = (ev, m, start, days, p)
    return best


def _expected_distinct(shares: np.ndarray, n: int) -> float:
    return float(np.sum(1.0 - (1.0 - shares) ** n))


def detect(ctx: Context) -> Verdicts:
    """Signals -> cohorts -> scores and reasons -> account and campaign tables."""
    ts = text_signals(ctx)
    acc = account_signals(ctx, ts)
    t = _segment_matrix(ctx)
    labels, w = link_accounts(ctx, acc, t)
    n_acc = len(acc.n_prompts)

    # population baselines, from every account in the window
    med_per_day = float(np.median(acc.per_day)) if n_acc else 1.0
    # what ordinary traffic of this log looks like: the median account (campaigns are a minority of accounts even
    # where they are most of the prompts), so content evidence is "more than usual here", not a fixed cut-off
    regular = acc.n_prompts >= 3
    cap_base = float(np.median(acc.capability_share[regular])) if regular.any() else 0.0
    mk_base = float(np.median(acc.marker_share[regular])) if regular.any() else 0.0
    _, asn_counts = np.unique(acc.asn.astype(str), return_counts=True)
    asn_shares = asn_counts / max(asn_counts.sum(), 1)

    prompt_acc = ctx.account_codes
    text_row = ctx.text_row
    area_p = ts.area[text_row]
    marked_p = np.zeros(len(text_row), dtype=bool)
    for m in ts.markers.values():
        marked_p |= m[text_row]
    marker_p = {k: v[text_row] for k, v in ts.markers.items()}
    foreign_p = ts.foreign[text_row]
    ts_all = epoch_seconds(ctx.window["timestamp"])

    prompts_by_acc = np.argsort(prompt_acc, kind="stable")
    acc_bounds = np.searchsorted(prompt_acc[prompts_by_acc], np.arange(n_acc + 1))

    def score_cohorts(labels: np.ndarray) -> tuple[list[dict], np.ndarray, np.ndarray, list[list[str]]]:
        """Score every cohort of ``labels``; returns its rows and per-account score, strength and reasons."""
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
        account_score = np.zeros(n_acc)
        account_strength = np.zeros(n_acc)
        account_reasons: list[list[str]] = [[] for _ in range(n_acc)]
        cohort_rows = []
        for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
            members = order[b0:b1]
            n = len(members)
            if n < 2 or labels[members[0]] < 0:
                continue
            pidx = np.concatenate([prompts_by_acc[acc_bounds[a] : acc_bounds[a + 1]] for a in members])
            n_p = len(pidx)
            # provenance
            e_burst, m_burst, burst_start, burst_days, p_burst = _burst(acc.created[members], acc.created)
            pay = acc.payment[members].astype(str)
            pv, pc_ = np.unique(pay[pay != ""], return_counts=True)
            shared_pay = float(np.isin(pay, pv[pc_ > 1]).mean()) if len(pv) else 0.0
            n_asn = len(set(acc.asn[members].astype(str)) - {""})
            exp_asn = _expected_distinct(asn_shares, n)
            e_asn = float(np.clip(1 - n_asn / max(exp_asn, 1), 0, 1)) if n >= 5 else 0.0
            e_infra = max(shared_pay, e_asn)
            e_prov = 1 - (1 - e_burst) * (1 - 0.6 * e_infra)
            ages = acc.age_days[members]
            young = float(np.nanmean(ages < 30)) if np.isfinite(ages).any() else 0.0
            # content
            cap = area_p[pidx] >= 0
            s_cap = float(cap.mean())
            hist = np.bincount(area_p[pidx][cap], minlength=len(AREAS)).astype(float)
            hist = np.r_[hist, foreign_p[pidx].sum()]
            covered = int((hist >= 0.05 * max(cap.sum(), 1)).sum()) if cap.any() else 0
            cov_factor = 0.5 + 0.5 * min(1.0, max(covered - 1, 0) / 3)
            mk = float(marked_p[pidx].mean())
            s_rel = max(0.0, (s_cap - cap_base) / max(1 - cap_base, 1e-9))
            mk_rel = max(0.0, (mk - mk_base) / max(1 - mk_base, 1e-9))
            e_content = min(1.0, s_rel * cov_factor + 0.5 * mk_rel)
            # behaviour
            eligible = members[acc.n_prompts[members] >= MIN_PROMPTS_FOR_CLOCK]
            flat = float((acc.max_hour_gap[eligible] < 6).mean()) if len(eligible) else 0.0
            lock = float((acc.minute_r[eligible] > 0.8).mean()) if len(eligible) else 0.0
            e_machine = max(flat, lock) * len(eligible) / n
            vol_ratio = float(np.median(acc.per_day[members])) / max(med_per_day, 1e-9)
            e_vol = float(np.clip(math.log10(max(vol_ratio, 1e-9)), 0, 1))
            e_beh = max(e_machine, e_vol)
            # look-alike discounts
            # one prompt copied by many (viral, homework): a handful of slot contents make most of the traffic.
            # Measured as the share of the five commonest, not as distinct/total, which a big campaign drawing
            # from a finite question pool would also lower
            _, group_sizes = np.unique(ctx.payload_group[text_row[pidx]], return_counts=True)
            top5 = float(np.sort(group_sizes)[-5:].sum() / n_p)
            f_distinct = float(np.clip((1.0 - top5) / 0.5, 0.0, 1.0))
            orgs = acc.org[members].astype(str)
            ov, oc = np.unique(orgs[orgs != ""], return_counts=True)
            top_org_share = float(oc.max() / n) if len(oc) else 0.0
            median_age = float(np.nanmedian(ages)) if np.isfinite(ages).any() else float("nan")
            one_old_org = top_org_share >= 0.8 and (not math.isfinite(median_age) or median_age > 90)
            f_org = 0.3 if one_old_org else 1.0
            f_n = min(1.0, math.log(n) / math.log(10))
            # behaviour alone (automation, heavy use) is common and legitimate: it only adds to provenance or content
            raw = (e_prov + e_content) / 2 + 0.25 * e_beh * max(e_prov, e_content)
            score = float(np.clip(raw, 0, 1) * f_n * f_distinct * f_org)

            # member strength: share of the account's prompts carrying the cohort's core wrapper segments, relative to
            # the cohort's median member (a campaign with cover traffic has a lower median), so an account that drifted
            # in through one shared sentence ranks below the operation's own accounts and is not flagged with them
            sub = w[members]
            core = np.asarray((sub > 0).sum(axis=0)).ravel() >= max(2, 0.3 * n)
            strength = np.ones(n)
            if core.any():
                per_acc = np.zeros(n)
                seg_of_text = t[:, np.flatnonzero(core)]
                has_core = np.asarray(seg_of_text.sum(axis=1)).ravel() > 0
                for j, a in enumerate(members):
                    rows = text_row[prompts_by_acc[acc_bounds[a] : acc_bounds[a + 1]]]
                    per_acc[j] = has_core[rows].mean() if len(rows) else 0.0
                strength = per_acc
            strength = np.clip(strength / max(float(np.median(strength)), 1e-9), 0.0, 1.0)
            # a card shared with the cohort's typical members ties an account to the operation whatever it sends
            strong_cards = set(pay[(strength >= 0.5) & (pay != "")])
            shares_card = np.isin(pay, list(pv[pc_ > 1])) & np.isin(pay, list(strong_cards))
            strength = np.where(shares_card, 1.0, strength)

            tids = ctx.template_id[text_row[pidx]]
            wrapped = float((tids != 0).mean())
            reasons = _reasons(
                wrapped=wrapped,
                top_template=float(np.asarray(t[text_row[pidx]].sum(axis=0)).max() / n_p) if t.nnz else 0.0,
                n=n,
                n_p=n_p,
                m_burst=m_burst,
                burst_days=burst_days,
                p_burst=p_burst,
                young=young,
                shared_pay=shared_pay,
                n_pay=len(pv),
                n_asn=n_asn,
                exp_asn=exp_asn,
                s_cap=s_cap,
                hist=hist,
                covered=covered,
                mk=mk,
                marker_shares={k: float(v[pidx].mean()) for k, v in marker_p.items()},
                flat=flat,
                lock=lock,
                n_eligible=len(eligible),
                vol_ratio=vol_ratio,
                per_day=float(np.median(acc.per_day[members])),
            )
            mitigations = []
            if one_old_org:
                mitigations.append(
                    f"{top_org_share:.0%} of accounts in one org, median account age {median_age:.0f} days: "
                    "looks like one customer's own traffic (eval harness, classroom, team)"
                )
            if f_distinct < 1:
                mitigations.append(
                    f"its five commonest texts are {top5:.0%} of its prompts: one prompt copied by many "
                    "(viral prompt, homework)"
                )
            if n < 10:
                mitigations.append(f"only {n} accounts")
            if e_prov < 0.2 and e_content < 0.4:
                mitigations.append("ordinary content from accounts of all ages: a product's or users' shared prompt")
            cid = "c" + format(
                int(hash64([",".join(sorted(ctx.account_names[a] for a in members))])[0]) & 0xFFFFFFFF, "08x"
            )
            flagged = score >= FLAG_SCORE and n >= MIN_COHORT
            account_strength[members] = strength
            for a in members:
                account_reasons[a] = reasons[:3] if flagged else mitigations[:2]
            cohort_rows.append(
                {
                    "_members": members,
                    "_burst": (burst_start, burst_days, m_burst / n),
                    "_hist": hist,
                    "campaign_id": cid,
                    "score": round(score, 4),
                    "flagged": bool(flagged),
                    "accounts": n,
                    "prompts": n_p,
                    "first_seen": int(ts_all[pidx].min()),
                    "last_seen": int(ts_all[pidx].max()),
                    "evidence": json.dumps(
                        {
                            "burst": e_burst,
                            "infra": e_infra,
                            "provenance": e_prov,
                            "content": e_content,
                            "machine_clock": e_machine,
                            "volume": e_vol,
                            "behaviour": e_beh,
                            "size": f_n,
                            "distinct": f_distinct,
                            "one_old_org": one_old_org,
                        },
                    ),
                    "reasons": json.dumps(reasons),
                    "mitigations": json.dumps(mitigations),
                    "areas": json.dumps({a: int(c) for a, c in zip([*AREAS, "languages"], hist, strict=True) if c}),
                    # the operation's own accounts: members at least MIN_MEMBER_STRENGTH typical of the cohort
                    "member_ids": [
                        ctx.account_names[a]
                        for a, st in zip(members, strength, strict=True)
                        if st >= MIN_MEMBER_STRENGTH
                    ],
                    "templates": _top_templates(ctx, pidx),
                    "clusters": _top_clusters(ctx, pidx),
                    "samples": [ctx.norm[text_row[i]][:400] for i in pidx[:: max(1, n_p // 5)][:5]],
                }
            )
            for j, a in enumerate(members):
                account_score[a] = score * (0.6 + 0.4 * strength[j])
        return cohort_rows, account_score, account_strength, account_reasons

    cohort_rows, account_score, account_strength, account_reasons = score_cohorts(labels)
    merged = _merge_bursts(labels, cohort_rows)
    if merged is not None:
        labels = merged
        cohort_rows, account_score, account_strength, account_reasons = score_cohorts(labels)

    # accounts outside any cohort, and weak members: their own evidence, capped below any flag
    solo = _solo_evidence(acc, med_per_day)
    account_score = np.maximum(account_score, SOLO_CAP * solo)
    camp_by_cohort: dict[int, str] = {}
    flagged_acc = np.zeros(n_acc, dtype=bool)
    cohort_by_acc: dict[int, str] = {}
    for row in cohort_rows:
        members = row.pop("_members")
        row.pop("_burst")
        row.pop("_hist")
        cohort_by_acc.update({int(a): row["campaign_id"] for a in members})
        if row["flagged"]:
            ok = account_strength[members] >= MIN_MEMBER_STRENGTH
            flagged_acc[members[ok]] = True
            camp_by_cohort.update({int(a): row["campaign_id"] for a in members[ok]})
    campaign_of = np.array([camp_by_cohort.get(a, "") for a in range(n_acc)], dtype=object)
    cohort_of = np.array([cohort_by_acc.get(a, "") for a in range(n_acc)], dtype=object)
    return Verdicts(
        _accounts_table(
            ctx, acc, account_score, flagged_acc, campaign_of, cohort_of, account_strength, account_reasons
        ),
        _campaigns_table(cohort_rows),
    )


def _merge_bursts(labels: np.ndarray, rows: list[dict]) -> np.ndarray | None:
    """Join flagged cohorts that are one operation split by how it was linked (e.g. one cohort per payment card).

    Two flagged cohorts are joined when both were created in one short burst (most accounts within a week), the
    bursts start within MERGE_BURST_DAYS of each other, their capability-area profiles agree (cosine >= 0.9) and
    their wrappers do not disagree (both without templates, or sharing some). Unflagged cohorts are never joined,
    so this cannot pull ordinary users into a campaign. Returns new labels, or None when nothing is joined.
    """
    flagged = [r for r in rows if r["flagged"] and r["_burst"][2] >= 0.8 and r["_burst"][1] <= 7]
    parent = list(range(len(flagged)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined = False
    for i in range(len(flagged)):
        for j in range(i + 1, len(flagged)):
            a, b = flagged[i], flagged[j]
            if abs(a["_burst"][0] - b["_burst"][0]) > MERGE_BURST_DAYS * 86400:
                continue
            ha, hb = a["_hist"], b["_hist"]
            cos = float(ha @ hb / max(np.linalg.norm(ha) * np.linalg.norm(hb), 1e-12))
            ta, tb = set(a["templates"]), set(b["templates"])
            same_wrappers = (not ta and not tb) or (ta and tb and len(ta & tb) / len(ta | tb) >= 0.3)
            if cos >= 0.9 and same_wrappers:
                parent[find(i)] = find(j)
                joined = True
    if not joined:
        return None
    out = labels.copy()
    for i, r in enumerate(flagged):
        out[r["_members"]] = labels[flagged[find(i)]["_members"][0]]
    return out


def _solo_evidence(acc: AccountSignals, med_per_day: float) -> np.ndarray:
    """An account's own suspicion in [0, 1]: young, capability-heavy, marker-heavy, machine clock, high volume."""
    young = np.where(np.isfinite(acc.age_days), np.clip(1 - acc.age_days / 60, 0, 1), 0)
    eligible = acc.n_prompts >= MIN_PROMPTS_FOR_CLOCK
    machine = np.where(eligible, np.maximum(acc.max_hour_gap < 6, acc.minute_r > 0.8), 0).astype(float)
    vol = np.clip(np.log10(np.maximum(acc.per_day, 1e-9) / max(med_per_day, 1e-9)), 0, 1)
    return (young + acc.capability_share + acc.marker_share + machine + vol) / 5


def _reasons(**k: object) -> list[str]:
    """Human-readable evidence lines, strongest first, each with its numbers."""
    n, out = k["n"], []
    out.append(f"{n} accounts, {k['n_p']:,} prompts")
    if k["m_burst"] >= 2 and k["p_burst"] < 1e-3:
        out.append(
            f"{k['m_burst'] / n:.0%} of accounts created within {k['burst_days']:.0f} days "
            f"(chance under the log's sign-up rate {max(k['p_burst'], 1e-300):.0e}); {k['young']:.0%} under 30 days old"
        )
    if k["wrapped"] >= 0.3:
        out.append(
            f"{k['wrapped']:.0%} of prompts carry wrapper text shared across accounts; its commonest sentence is in "
            f"{k['top_template']:.0%}"
        )
    if k["shared_pay"] > 0:
        out.append(f"{k['shared_pay']:.0%} of accounts share a payment fingerprint ({k['n_pay']} cards)")
    if k["n"] >= 5 and k["n_asn"] < 0.5 * k["exp_asn"]:
        out.append(f"{k['n_asn']} network ASNs where {k['exp_asn']:.0f} would be expected for {n} accounts")
    hist = k["hist"]
    if k["s_cap"] >= 0.3:
        names = [*AREAS, "languages"]
        top = [f"{names[i]} {hist[i] / max(hist.sum(), 1):.0%}" for i in np.argsort(-hist)[:4] if hist[i] > 0]
        out.append(f"{k['s_cap']:.0%} of prompts are capability probes over {k['covered']} areas ({', '.join(top)})")
    ms = k["marker_shares"]
    for name, label in (
        ("reasoning", "ask for step-by-step reasoning"),
        ("grading", "ask the model to grade an answer"),
        ("refusal", "probe refusals"),
    ):
        if ms.get(name, 0) >= 0.2:
            out.append(f"{ms[name]:.0%} of prompts {label}")
    if k["n_eligible"] and k["flat"] >= 0.5:
        out.append(f"{k['flat']:.0%} of busy accounts send round the clock (no quiet 6 hours in the day)")
    if k["n_eligible"] and k["lock"] >= 0.5:
        out.append(f"{k['lock']:.0%} of busy accounts fire at the same minute of the hour (lockstep)")
    if k["vol_ratio"] >= 3:
        out.append(f"median {k['per_day']:.1f} requests per account per day, {k['vol_ratio']:.0f}x the log's median")
    return out


def _top_templates(ctx: Context, pidx: np.ndarray, top: int = 3) -> list[str]:
    tids = ctx.template_id[ctx.text_row[pidx]]
    has = tids != 0
    if not has.any():
        return []
    vals, counts = np.unique(tids[has], return_counts=True)
    out = []
    for v in vals[np.argsort(-counts)[:top]]:
        row = ctx.text_row[pidx[np.flatnonzero(tids == v)[0]]]
        out.append(ctx.template[row])
    return out


def _top_clusters(ctx: Context, pidx: np.ndarray, top: int = 5) -> list[int]:
    cl = ctx.text_cluster[ctx.text_row[pidx]]
    cl = cl[cl >= 0]
    if not len(cl):
        return []
    vals, counts = np.unique(cl, return_counts=True)
    return [int(v) for v in vals[np.argsort(-counts)[:top]]]


def _accounts_table(
    ctx: Context,
    acc: AccountSignals,
    score: np.ndarray,
    flagged: np.ndarray,
    campaign: np.ndarray,
    cohort: np.ndarray,
    strength: np.ndarray,
    reasons: list[list[str]],
) -> pa.Table:
    """Verdict per account, joined back onto the account table's attributes (accounts with no prompts: score 0)."""
    base = ctx.accounts
    where = {a: i for i, a in enumerate(ctx.account_names)}
    idx = np.array([where.get(a, -1) for a in base["account_id"].to_pylist()], dtype=np.int64)
    ok = idx >= 0
    j = np.maximum(idx, 0)

    def take(x: np.ndarray, fill: object) -> list:
        return np.where(ok, x[j], fill).tolist()

    return (
        base.append_column("score", pa.array(np.where(ok, score[j], 0.0).round(4)))
        .append_column("campaign_id", pa.array(take(campaign, ""), pa.string()))
        .append_column("flagged", pa.array(np.where(ok, flagged[j], False)))
        .append_column("cohort_id", pa.array(take(cohort, ""), pa.string()))
        .append_column("member_strength", pa.array(np.where(ok, strength[j], 0.0).round(3)))
        .append_column("prompts", pa.array(np.where(ok, acc.n_prompts[j], 0).astype(np.int64)))
        .append_column("per_day", pa.array(np.where(ok, acc.per_day[j], 0.0).round(2)))
        .append_column("capability_share", pa.array(np.where(ok, acc.capability_share[j], 0.0).round(3)))
        .append_column("marker_share", pa.array(np.where(ok, acc.marker_share[j], 0.0).round(3)))
        .append_column("reasons", pa.array([json.dumps(reasons[i]) if i >= 0 else "[]" for i in idx], pa.string()))
    )


def _campaigns_table(rows: list[dict]) -> pa.Table:
    rows = sorted(rows, key=lambda r: (-r["score"], -r["accounts"]))
    schema = pa.schema(
        [
            ("campaign_id", pa.string()),
            ("score", pa.float64()),
            ("flagged", pa.bool_()),
            ("accounts", pa.int64()),
            ("prompts", pa.int64()),
            ("first_seen", pa.timestamp("s", tz="UTC")),
            ("last_seen", pa.timestamp("s", tz="UTC")),
            ("evidence", pa.string()),
            ("reasons", pa.string()),
            ("mitigations", pa.string()),
            ("areas", pa.string()),
            ("member_ids", pa.list_(pa.string())),
            ("templates", pa.list_(pa.string())),
            ("clusters", pa.list_(pa.int64())),
            ("samples", pa.list_(pa.string())),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
