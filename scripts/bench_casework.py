#!/usr/bin/env python3
"""Casework over three nights: analysts label what night 1 flagged, and nights 2 and 3 act on the labels.

    python scripts/bench_casework.py [CONFIG.json] [--work DIR] [--confirm GROUP] [--other CONFIG.json]

On ``make_logs.py CONFIG --split-days`` (default ../shared/bench/public3.json), night by night into one store:

1. night 1 = the first day, less a third of the accounts of the campaign that will be confirmed (they first appear
   on night 2). Then the script, as an analyst would, confirms the campaign holding most of one operation's accounts
   (``--confirm``, default cot-harvest) and labels another flagged campaign benign (``known-customer``): the
   lowest-scoring false alarm (on the scaled-down configs of the test, a bootcamp cohort), or where night 1 has
   none (detection flags no false campaign on public3), the lowest-scoring campaign: the scenario is about what a
   label does, whatever its reason;
2. night 2 = the second day. Checked: the benign campaign is listed, not flagged, and says why; the confirmed
   campaign's accounts that first appear tonight are flagged in it with the watch reason (what matched them is
   counted: template, card, org, cohort, profile), and the watch flags no account outside that operation;
3. night 3 = the third day, plus new accounts for the benign campaign's operation (half as many as were labelled,
   taken from a log made from the same config with another seed: same operation, new accounts). Checked: the
   benign campaign (or, where it split, the part that carries its label: "split from C...") is flagged again, with
   the reason naming its growth; how many of the added accounts it holds is printed;
4. indicators: the confirmed campaign's STIX bundle (``promptsim indicators export``) names no account, matches the
   same operation in a log made from the same config with another seed (all new accounts and cards: by its
   templates), and in the log of ``--other`` (default public.json) matches nothing but that same operation
   (public.json plants cot-harvest with the same wrapper templates, so there a match is the right answer).

Prints each night's campaigns and every check (PASS / FAIL); exits 1 when a check fails. The truth files are read
only to pick the campaigns to label and to build night 3's input, never by the engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))

from engine.app import casework  # noqa: E402
from engine.pipeline import RunConfig, run  # noqa: E402
from engine.store import Store  # noqa: E402
from engine.store.tables import Tables  # noqa: E402

#: the operation the analyst confirms (--confirm): cot-harvest is flagged whole on night 1 even with a third of its
#: accounts held back; hydra-proxy (public3's own, absent from public.json) is not -- on one day's traffic its 100
#: remaining accounts fall inside other cohorts, so there is no campaign of it to confirm yet
CONFIRM_GROUP = "cot-harvest"


def make_log(config: Path, out: Path, seed: int | None = None) -> tuple[list[Path], dict[str, str], dict[str, str]]:
    """The log's whole days (night files), each account's group, and each group's label (campaign or benign)."""
    cfg_path = config
    if seed is not None:
        cfg = json.loads(config.read_text())
        cfg["seed"] = seed
        cfg["corpora"] = [str((config.parent / c).resolve()) for c in cfg["corpora"]]
        cfg_path = out.with_suffix(".json")
        cfg_path.write_text(json.dumps(cfg))
    subprocess.run([sys.executable, str(BENCH / "make_logs.py"), str(cfg_path), str(out), "--split-days"], check=True,
                   capture_output=True)  # fmt: skip
    with open(out / "truth_accounts.csv", newline="") as fh:
        read = list(csv.DictReader(fh))
    truth = {r["account_id"]: r["group"] for r in read}
    kinds = {r["group"]: r["label"] for r in read}
    # whole days only: the few requests stamped before the first day or after the last (clock jitter) join the
    # day next to them
    files = sorted(out.glob("prompts-*.jsonl"))
    sizes = [sum(1 for _ in f.open(encoding="utf-8")) for f in files]
    full = [i for i, n in enumerate(sizes) if n >= 0.1 * sorted(sizes)[len(sizes) // 2]]
    days = []
    for k, i in enumerate(full):
        lo = 0 if k == 0 else i
        hi = len(files) if k == len(full) - 1 else i + 1
        day = out / f"night-{k + 1}.jsonl"
        write(day, [r for f in files[lo:hi] for r in rows(f)])
        days.append(day)
    return days, truth, kinds


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def write(path: Path, items: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in items:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def night(store: Path, prompts: Path, accounts: Path, n: int) -> Tables:
    t0 = time.perf_counter()
    report = run(RunConfig(inputs=[prompts], accounts=accounts, store=store, quiet=True))
    print(f"\n== night {n}: {report.accepted:,} new prompts, {report.campaigns} flagged campaigns, "
          f"{report.flagged_accounts:,} flagged accounts ({time.perf_counter() - t0:.0f}s); "
          f"casework records used: {report.labels_seen}")  # fmt: skip
    tables = Tables(Store(store).require())
    for c in tables.campaigns().to_pylist():
        if c["flagged"] or c["campaign_id"] in LABELLED:
            said = json.loads(c["reasons"] if c["flagged"] else c["mitigations"])[:1]
            print(f"  {c['campaign_id']:<10} {'FLAG' if c['flagged'] else 'no  '} score {c['score']:.2f} "
                  f"{c['accounts']:>5} accounts  {'; '.join(said)[:130]}")  # fmt: skip
    return tables


LABELLED: set[str] = set()
FAILED: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    if not ok:
        FAILED.append(what)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", type=Path, default=BENCH / "public3.json")
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-casework"))
    p.add_argument("--confirm", default=CONFIRM_GROUP, help=f"the operation to confirm (default {CONFIRM_GROUP})")
    p.add_argument("--other", type=Path, default=BENCH / "public.json",
                   help="a config of other operations the bundle must not match (default public.json)")  # fmt: skip
    a = p.parse_args()
    group = a.confirm
    if a.work.exists():
        shutil.rmtree(a.work)
    a.work.mkdir(parents=True)
    days, truth, kinds = make_log(a.config.resolve(), a.work / "log")
    accounts = a.work / "log" / "accounts.jsonl"
    store = a.work / "store"

    # night 1: the first day without a third of the confirmed operation's accounts
    op = sorted(x for x, g in truth.items() if g == group)
    held = set(op[::3])
    first = write(a.work / "night1.jsonl", [r for r in rows(days[0]) if r["account_id"] not in held])
    t1 = night(store, first, accounts, 1)
    flagged = t1.campaigns(flagged_only=True).to_pylist()
    by_group = {c["campaign_id"]: Counter(truth.get(m, "?") for m in c["member_ids"]) for c in flagged}
    confirm = max(flagged, key=lambda c: by_group[c["campaign_id"]][group])["campaign_id"]
    # a false alarm is what an analyst labels benign; without one, the lowest-scoring campaign stands in
    others = [c for c in flagged if c["campaign_id"] != confirm]
    false = [c for c in others if kinds.get(by_group[c["campaign_id"]].most_common(1)[0][0]) == "benign"]
    benign = min(false or others, key=lambda c: c["score"])
    benign_id, benign_group = benign["campaign_id"], by_group[benign["campaign_id"]].most_common(1)[0][0]
    LABELLED.update({confirm, benign_id})
    s = Store(store)
    casework.label(s, "campaign", confirm, "confirmed", note="extraction: reasoning traces", by="analyst-1")
    casework.label(s, "campaign", benign_id, "benign", kind="known-customer", note="contracted eval vendor",
                   by="analyst-2")  # fmt: skip
    print(f"  labelled {confirm} confirmed ({group}) and {benign_id} benign "
          f"({benign['accounts']} accounts, mostly {benign_group})")  # fmt: skip

    # night 2: the second day, the held-back accounts appear
    t2 = night(store, days[1], accounts, 2)
    b2 = t2.campaign(benign_id)
    check(b2 is not None and not b2["flagged"], f"night 2: {benign_id} (labelled benign) is not flagged")
    check(b2 is not None and (json.loads(b2["mitigations"]) or [""])[0].startswith("labelled benign (known-customer)"),
          f"night 2: {benign_id} says why")  # fmt: skip
    acc2 = {r["account_id"]: r for r in t2.accounts().to_pylist()}
    new = [acc2[x] for x in held if x in acc2]
    watched = [r for r in new if r["flagged"] and r["campaign_id"] == confirm
               and any(w.startswith(f"matches confirmed campaign {confirm}") for w in json.loads(r["reasons"]))]  # fmt: skip
    check(len(new) > 0 and len(watched) == len(new),
          f"night 2: {len(watched)}/{len(new)} accounts of the confirmed operation that first appear tonight are "
          f"flagged in {confirm} with the watch reason")  # fmt: skip
    if watched:
        print(f"    e.g. {watched[0]['account_id']}: {json.loads(watched[0]['reasons'])[0]}")
        how = Counter(re.search(r"\((its [a-z]+|joined its cohort)", w).group(1) for r in watched
                      for w in json.loads(r["reasons"]) if w.startswith(f"matches confirmed campaign {confirm}"))  # fmt: skip
        print(f"    matched by: {', '.join(f'{k} {v}' for k, v in how.most_common())}")
    stray = [r["account_id"] for r in acc2.values() if r["account_id"] not in set(op)
             and any(w.startswith("matches confirmed campaign") for w in json.loads(r["reasons"]))]  # fmt: skip
    check(not stray, f"night 2: the watch flags no account outside the {group} operation ({len(stray)} do)")

    # night 3: the third day, and the benign campaign's operation grows by half with new accounts
    other_days, other_truth, _ = make_log(a.config.resolve(), a.work / "log-seed2", seed=1 + json.loads(
        a.config.read_text()).get("seed", 0))  # fmt: skip
    grow = sorted(x for x, g in other_truth.items() if g == benign_group)[: max(1, len(benign["member_ids"]) // 2)]
    extra = [r for r in rows(other_days[2]) if r["account_id"] in set(grow)]
    more_accounts = [r for r in rows(a.work / "log-seed2" / "accounts.jsonl") if r["account_id"] in set(grow)]
    night3 = write(a.work / "night3.jsonl", rows(days[2]) + extra)
    accounts3 = write(a.work / "accounts3.jsonl", rows(accounts) + more_accounts)
    t3 = night(store, night3, accounts3, 3)
    # the grown campaign may keep its id or, where it split, be a part that carries the label ("split from ...")
    again = [c for c in t3.campaigns(flagged_only=True).to_pylist()
             if (c["campaign_id"] == benign_id or f"split from {benign_id}," in json.loads(c["reasons"])[0])
             and "since then +" in json.loads(c["reasons"])[0]]  # fmt: skip
    held3 = {x for c in again for x in c["member_ids"]} & set(grow)
    why = json.loads(again[0]["reasons"])[0] if again else ""
    check(bool(again), f"night 3: {benign_id} grew and is flagged again: {why[:160]}")
    # which new accounts it grew by is the engine's call: a swarm's quiet new accounts may not join it tonight,
    # while others of its operation do; printed, not checked
    print(f"    {len(held3)} of the {len(grow)} accounts added for its operation are in "
          f"{', '.join(c['campaign_id'] for c in again) or 'no flagged campaign'}")  # fmt: skip
    # indicators: the confirmed campaign's bundle, matched on a log of the same config with another seed (the same
    # operation, all new accounts and cards) and on public.json's log (other operations)
    print("\n== indicators")
    from engine.app import indicators

    key = "bench-casework-key"
    bundle = json.loads(indicators.export_bundle(s, [confirm], key=key).serialize())
    raw = json.dumps(bundle)
    leaked = [x for x in (t1.campaign(confirm) or {}).get("member_ids", []) if x in raw]
    check(not leaked, f"the bundle of {confirm} ({len(bundle['objects'])} STIX objects) names no account")
    for name, log_dir in (("same config, another seed", a.work / "log-seed2"), (a.other.name, None)):
        if log_dir is None:
            log_dir = a.work / "log-other"
            subprocess.run([sys.executable, str(BENCH / "make_logs.py"), str(a.other.resolve()), str(log_dir)],
                           check=True, capture_output=True)  # fmt: skip
        with open(log_dir / "truth_accounts.csv", newline="") as fh:
            other_truth = {r["account_id"]: r["group"] for r in csv.DictReader(fh)}
        other = a.work / f"store-{log_dir.name}"
        run(RunConfig(inputs=[log_dir / "prompts.jsonl"], accounts=log_dir / "accounts.jsonl", store=other, quiet=True))
        ot = Tables(Store(other).require())
        hits = [m for m in indicators.match_bundle(Store(other), bundle, key=key) if "campaign_id" in m]
        for m in hits:
            grp = Counter(other_truth.get(x, "?") for x in (ot.campaign(m["campaign_id"]) or {}).get("member_ids", []))
            print(f"  {name}: {m['campaign_id']} similarity {m['similarity']:.2f} ({m['accounts']} accounts, mostly "
                  f"{grp.most_common(1)[0][0] if grp else '?'}): {'; '.join(m['matched'])}")  # fmt: skip
        same = [m for m in hits if Counter(other_truth.get(x, "?") for x in (ot.campaign(m["campaign_id"]) or {})
                .get("member_ids", [])).most_common(1)[0][0] == group]  # fmt: skip
        if log_dir.name == "log-seed2":
            check(bool(same), f"the bundle matches the {group} campaign of a log made with another seed")
        # public.json plants the same cot-harvest operation (the same wrapper templates): matching it there is right;
        # what must not match is anything else
        check(len(same) == len(hits), f"{name}: nothing but the {group} operation matches "
              f"({len(hits) - len(same)} other match(es))")  # fmt: skip

    print("\n== labels stats")
    for r in casework.stats(s):
        print(f"  {r['night']}  campaigns {r['campaigns']}  confirmed {r['confirmed']}  benign {r['benign']}  "
              f"unreviewed {r['unreviewed']}")  # fmt: skip
    print(f"\n{len(FAILED)} check(s) failed" if FAILED else "\nall checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
