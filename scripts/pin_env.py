#!/usr/bin/env python3
"""The pinned environment: write it, check an install against it, and record the static model it distils.

    python scripts/pin_env.py freeze            # the running environment as constraints.txt lines (stdout)
    python scripts/pin_env.py check [--strict]  # this environment is exactly constraints.txt (exit 1 if not)
    python scripts/pin_env.py static --write    # distil the static model here, write its digest to the pin file

``make lock`` runs all three in a fresh virtualenv to refresh the pins; ``make`` installs from constraints.txt and
runs ``check`` (``--strict`` under CI: an extra package is an error there, a warning on a developer's machine).

Why pins at all: the engine's verdicts depend on numerical libraries (the distilled static model, BLAS, FAISS,
HDBSCAN, scikit-learn) and an open-ended install gave other verdicts on another machine. ``pyproject.toml`` keeps
compatible ranges for people who use promptsim as a library; the project's own set-up, CI and benchmarks use these.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
HEADER = """\
# The pinned environment: every package of a fresh `make` install (the dev extra, Ray included), exactly.
# The Makefile and CI install with `pip install -c constraints.txt`; `pyproject.toml` keeps the ranges for library
# users. Refresh (a fresh virtualenv, newest releases, then the static model's digest): `make lock`
"""
#: distributions that are not part of the pinned set: the project itself
SELF = {"promptsim"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    """{canonical name: version} of this environment, local version labels dropped (torch 2.13.0+cpu -> 2.13.0)."""
    out = {}
    for d in distributions():
        name = d.metadata["Name"]
        if name and canonical(name) not in SELF:
            out[canonical(name)] = d.version.split("+")[0]
    return out


def read_lock(path: Path = LOCK) -> dict[str, str]:
    pins = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, ver = line.partition("==")
        if not sep or not ver.strip():
            raise SystemExit(f"{path}:{n}: expected NAME==VERSION, got {line!r}")
        pins[canonical(name.strip())] = ver.strip()
    return pins


def freeze() -> int:
    lines = [f"{name}=={ver}" for name, ver in sorted(installed().items())]
    sys.stdout.write(HEADER + "\n".join(lines) + "\n")
    return 0


def check(strict: bool) -> int:
    pins, have = read_lock(), installed()
    wrong = [f"{n} {have[n]} (pinned {v})" for n, v in sorted(pins.items()) if n in have and have[n] != v]
    missing = [f"{n}=={v}" for n, v in sorted(pins.items()) if n not in have]
    extra = [f"{n}=={v}" for n, v in sorted(have.items()) if n not in pins]
    fix = "recreate it: rm -rf .venv && make test (or refresh the pins on purpose: make lock)"
    ok = True
    if wrong or missing:
        print(f"pin_env: this environment is not the pinned one ({LOCK.name}); {fix}", file=sys.stderr)
        for line in wrong:
            print(f"  version differs: {line}", file=sys.stderr)
        for line in missing:
            print(f"  not installed:   {line}", file=sys.stderr)
        ok = False
    if extra:
        kind = "error" if strict else "warning"
        print(f"pin_env: {kind}: installed but not pinned: {', '.join(extra)}", file=sys.stderr)
        ok = ok and not strict
    if ok:
        print(f"pin_env: {len(pins)} packages exactly as pinned in {LOCK.name}")
    return 0 if ok else 1


def static(write: bool) -> int:
    """Distil the static model into a fresh directory with this environment's libraries and print (or record) its
    digest. The build itself checks the current pin, so recording runs with the check lifted."""
    from engine.embed.static import ALLOW_UNPINNED, PIN_FILE, StaticEmbedder, library_versions

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[ALLOW_UNPINNED] = "1"
        e = StaticEmbedder(Path(tmp) / "static-minilm-256")
        e.model  # noqa: B018 - builds it
        record = {"digest": e.digest, "built_with": library_versions()}
    print(json.dumps(record, indent=1))
    if write:
        PIN_FILE.parent.mkdir(parents=True, exist_ok=True)
        PIN_FILE.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {PIN_FILE.relative_to(ROOT)}", file=sys.stderr)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("freeze")
    c = sub.add_parser("check")
    c.add_argument("--strict", action="store_true", help="an installed package that is not pinned is an error")
    s = sub.add_parser("static")
    s.add_argument("--write", action="store_true")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    if a.cmd == "freeze":
        return freeze()
    if a.cmd == "check":
        return check(a.strict or bool(os.environ.get("CI")))
    return static(a.write)


if __name__ == "__main__":
    sys.exit(main())
