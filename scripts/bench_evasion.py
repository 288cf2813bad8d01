#!/usr/bin/env python3
"""Evasion map: how one campaign's recall moves as its operator changes one thing at a time.

    python scripts/bench_evasion.py ../shared/bench/public4.json --campaign drip-swarm [--evasions rate,wrapper]
                                    [--scale 0.5] [--seeds 1,2] [--work DIR] [--json OUT.json]

Every setting is a log of the config's ordinary users and look-alikes (``benign``, ``hard_negatives``) with that
one campaign alone in it, every other campaign left out, so each row's recall is the campaign's own and its flag
FPR is the benign side of the same night. From the campaign as configured (the ``as configured`` row), one
evasion is changed at a time (``EVASIONS``):

* ``rate``: requests per account per day, 1 to 50;
* ``days``: days each account is active (1: a fresh account a day), up to the whole log;
* ``wrapper``: one instruction around the questions shared by all accounts, one per account, or none;
* ``cover``: share of ordinary requests mixed in, 0 to 60%;
* ``switch``: moves half its traffic to the model released during the log within a day, or never;
* ``clock``: a human day (diurnal), round the clock (uniform), or scheduled bursts (lockstep);
* ``age``: accounts made days, months or years before the log;
* ``history``: a log of ``HISTORY_DAYS`` days, of which the night's window sees the last week and the store the
  rest (no model release in these logs): the campaign's accounts in use throughout, or idle until the last six
  days (aged accounts that wake);
* ``card``: accounts per payment card, 1 to 25;
* ``paraphrase``: share of questions reworded, 0 to 1.

The wrappers are written here for this script, in words of its own (no benchmark's or engine's phrase), so a row
measures the structure (shared / per account / none), not whether the engine knows the words.

Each setting runs ``make_logs.py`` (with ``--scale``: ordinary users and every crowd scaled alike), the nightly
pipeline in this process (static embedder) into a fresh store, and ``score.py``; it prints one line per setting:
the campaign's recall at 0.1% FPR (mean and lowest over the draws), the lowest AUC, best-match recall and purity,
flagged accounts, the benign flag FPR, the most-flagged look-alike's share, and false campaigns. Several ``--seeds``
are drawn per setting: found on one draw and missed on another is not found, so the table shows the lowest recall
over the draws beside the mean.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))

#: wrappers of this script's own wording: a shared one, and the pieces of a per-account one (a greeting, the
#: question, a closing request), each account drawing one piece of each
SHARED_WRAPPER = "Here is an item from my list.\n\n{q}\n\nGo through it one stage at a time and then state the result."
PER_ACCOUNT_BANKS = [
    ["", "", "hi - ", "quick one: ", "salut, ", "moin, "],
    ["{q}"],
    ["", " (walk me through it)", " - show how you get there", " pls detail", " explique comment", ""],
]

Setting = tuple[str, Callable[[dict, dict], None]]


def _rate(v: int) -> Setting:
    return f"rate {v}/day", lambda c, cfg: c.update(per_day=[v, v])


def _days(v: int | None) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        c.pop("rotate_days", None)
        c.pop("active_days", None)
        if v is not None and v < cfg.get("days", 1):
            c["rotate_days"] = v

    return (f"days {v}" if v is not None else "days all"), apply


def _wrapper(kind: str) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        for k in ("banks", "wrapper_per_account", "templates"):
            c.pop(k, None)
        if kind == "shared":
            c["templates"] = [SHARED_WRAPPER]
        elif kind == "per account":
            c["wrapper_per_account"] = True
            c["banks"] = copy.deepcopy(PER_ACCOUNT_BANKS)
        else:
            c["templates"] = ["{q}"]

    return f"wrapper {kind}", apply


def _cover(v: float) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        c["benign_mix"] = v
        c.setdefault("cover_sources", {"sharegpt-sample": 2, "self-instruct": 1})

    return f"cover {v:.0%}", apply


def _switch(on: bool) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        if on:
            c["new_model_share"], c["switch_hours"] = 0.5, 24
        else:
            c.pop("new_model_share", None)
            c.pop("switch_hours", None)

    return f"switch {'on' if on else 'off'}", apply


def _clock(kind: str) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        c["timing"] = kind
        if kind == "lockstep":
            c.setdefault("window_minutes", 12)

    return f"clock {kind}", apply


def _age(days: int, span: int) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        c["created_days_before"], c["created_span_days"] = days, span
        c.pop("rotate_days", None)

    return f"age {days}-{days + span}d", apply


#: days of log the ``history`` rows hold: the night's window (7 days) and a stored month and more before it
HISTORY_DAYS = 45


def _history(dormant: bool) -> Setting:
    def apply(c: dict, cfg: dict) -> None:
        cfg["days"] = HISTORY_DAYS
        # no model release: over six weeks the ordinary users' move to it would set apart a campaign that never
        # moves by its model choice alone, and these rows measure what the accounts' history says
        cfg.pop("model_release", None)
        c.pop("rotate_days", None)
        c.pop("active_days", None)
        if dormant:
            c["active_days"] = [HISTORY_DAYS - 6, HISTORY_DAYS]

    return f"{HISTORY_DAYS}d, {'dormant' if dormant else 'steady'}", apply


def _card(v: int) -> Setting:
    return f"card {v}/card", lambda c, cfg: c.update(accounts_per_payment=v)


def _paraphrase(v: float) -> Setting:
    return f"paraphrase {v:.1f}", lambda c, cfg: c.update(paraphrase=v)


EVASIONS: dict[str, list[Setting]] = {
    "rate": [_rate(v) for v in (1, 3, 10, 25, 50)],
    "days": [_days(1), _days(2), _days(None)],
    "wrapper": [_wrapper("shared"), _wrapper("per account"), _wrapper("none")],
    "cover": [_cover(v) for v in (0.0, 0.2, 0.4, 0.6)],
    "switch": [_switch(True), _switch(False)],
    "clock": [_clock("diurnal"), _clock("uniform"), _clock("lockstep")],
    "age": [_age(2, 2), _age(60, 60), _age(400, 700)],
    "history": [_history(False), _history(True)],
    "card": [_card(v) for v in (1, 5, 25)],
    "paraphrase": [_paraphrase(v) for v in (0.0, 0.5, 1.0)],
}


def one_campaign(cfg: dict, name: str, seed: int | None, where: Path) -> tuple[dict, dict]:
    """The config with every campaign but ``name`` left out (and the seed set); returns it and that campaign.
    ``where`` is the config's folder: its corpus paths are relative to it, and the copy is written elsewhere."""
    out = copy.deepcopy(cfg)
    out["corpora"] = [str((where / r).resolve()) for r in cfg.get("corpora", [])]
    found = [c for c in out["campaigns"] if c["name"] == name]
    if not found:
        raise SystemExit(f"bench_evasion: no campaign {name!r}; the config has {[c['name'] for c in cfg['campaigns']]}")
    out["campaigns"] = found
    if seed is not None:
        out["seed"] = seed
    return out, found[0]


def run_setting(cfg: dict, work: Path, scale: float) -> dict:
    """make_logs -> pipeline -> score.py for one config; score.py's JSON figures."""
    from engine.pipeline import RunConfig, run

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "config.json").write_text(json.dumps(cfg))
    log = work / "log"
    cmd = [sys.executable, str(BENCH / "make_logs.py"), str(work / "config.json"), str(log), "--scale", str(scale)]
    subprocess.run(cmd, check=True, capture_output=True)
    run(RunConfig(inputs=[log / "prompts.jsonl"], accounts=log / "accounts.jsonl", store=work / "store", quiet=True))
    from engine.app.report import export
    from engine.store import Store

    export(Store(work / "store").require(), work / "export")
    score = [sys.executable, str(BENCH / "score.py"), str(log), str(work / "export" / "accounts.csv")]
    subprocess.run([*score, "--json", str(work / "score.json")], check=True, capture_output=True)
    return json.loads((work / "score.json").read_text())


def summary(name: str, res: dict) -> dict:
    """The figures of one row: the campaign's own, and the benign side's."""
    camp = res["campaigns"][name]
    looks = [g for g, v in res["groups"].items() if v["label"] == "benign" and g != "benign"]
    worst = max(looks, key=lambda g: res["groups"][g]["flagged"] / max(res["groups"][g]["accounts"], 1), default="")
    share = res["groups"][worst]["flagged"] / max(res["groups"][worst]["accounts"], 1) if worst else 0.0
    worst = worst if share > 0 else "-"  # none flagged: no look-alike to name
    return {
        "recall": res["recall_at_fpr_0.001"],
        "best_recall": camp["best_recall"],
        "purity": camp["best_purity"],
        "flagged": camp["flagged"],
        "accounts": camp["accounts"],
        "fpr": res["flag_fpr"],
        "auc": res["auc"],
        "lookalike": worst,
        "lookalike_share": share,
        "false_campaigns": res["false_campaigns"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path)
    p.add_argument("--campaign", help="the campaign to sweep (default: the config's first)")
    p.add_argument("--evasions", default=",".join(EVASIONS), help=f"comma-separated, of: {', '.join(EVASIONS)}")
    p.add_argument("--scale", type=float, default=0.5, help="make_logs --scale: ordinary users and crowds alike")
    p.add_argument("--seeds", default="", help="comma-separated seeds (default: the config's own)")
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-evasion"))
    p.add_argument("--json", type=Path, help="write every row's figures here")
    a = p.parse_args()
    if not (BENCH / "make_logs.py").exists():
        print(f"bench_evasion: {BENCH} not found (../shared beside the checkout)", file=sys.stderr)
        return 2
    base = json.loads(a.config.read_text())
    name = a.campaign or base["campaigns"][0]["name"]
    unknown = set(a.evasions.split(",")) - set(EVASIONS)
    if unknown:
        p.error(f"unknown evasions {sorted(unknown)}; known: {', '.join(EVASIONS)}")
    seeds: list[int | None] = [int(s) for s in a.seeds.split(",") if s] or [None]
    settings: list[tuple[str, Setting]] = [("base", ("as configured", lambda c, cfg: None))]
    settings += [(e, s) for e in a.evasions.split(",") for s in EVASIONS[e]]
    rows = []
    head = (
        f"{'evasion':<11} {'setting':<22} {'recall@0.1%':>11} {'min':>5} {'auc':>6} {'best':>5} {'pur':>5} {'flag':>8} "
    )
    print(f"{name} in {a.config.name} (scale {a.scale}, seeds {a.seeds or 'config'})\n{head}"
          f"{'benign fpr':>10} {'worst look-alike':>24} {'false':>5}", flush=True)  # fmt: skip
    for evasion, (label, apply) in settings:
        figs = []
        for seed in seeds:
            cfg, camp = one_campaign(base, name, seed, a.config.resolve().parent)
            apply(camp, cfg)
            t0 = time.perf_counter()
            slug = f"{evasion}-{label}-{seed}".replace(" ", "_").replace("/", "_").replace("%", "pc")
            figs.append(summary(name, run_setting(cfg, a.work / slug, a.scale)))
            print(f"  {label} seed {seed}: {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
        rec = [f["recall"] for f in figs]
        worst = max(figs, key=lambda f: f["lookalike_share"])
        row = {"evasion": evasion, "setting": label, "seeds": seeds, "draws": figs}
        rows.append(row)
        print(
            f"{evasion:<11} {label:<22} {sum(rec) / len(rec):>11.3f} {min(rec):>5.2f} {min(f['auc'] for f in figs):>6.3f} "
            f"{min(f['best_recall'] for f in figs):>5.2f} {min(f['purity'] for f in figs):>5.2f} "
            f"{min(f['flagged'] for f in figs):>4}/{figs[0]['accounts']:<3} {max(f['fpr'] for f in figs):>10.4f} "
            f"{worst['lookalike'][:17]:>17} {worst['lookalike_share']:>6.1%} {max(f['false_campaigns'] for f in figs):>5}",
            flush=True,
        )
    if a.json:
        a.json.write_text(json.dumps({"config": str(a.config), "campaign": name, "scale": a.scale, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
