"""Shared fixtures: a small generated log (the project's own demo generator) and paths to ../shared."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "bench" / "make_logs.py").exists():
        why = "../shared (benchmark generator and corpora) is not beside this checkout"
        if os.environ.get("CI"):  # CI's clone has it beside: its absence must fail, not skip the detection tests
            pytest.fail(f"CI: {why}", pytrace=False)
        pytest.skip(why)
    return SHARED


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Any TCP connection attempt fails: proves a model load is fully local."""
    real = socket.socket.connect

    def refuse(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access attempted: {address}")
        real(self, address)  # type: ignore[arg-type]

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def fresh_static_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object] | None:
    """The default static embedder, distilled once per session where the checkout has none (a fresh clone: CI).

    It is built into a temp models dir, under the no-network guard, and copied into the repo's ``models/``, where
    every night of the suite finds it. ``tests/test_embed.py`` checks that build (digest, no temp dir left, reload
    without rebuilding) instead of distilling a second copy (~45 s of CI). Where ``models/`` already holds the
    model this does nothing (None) and test_embed distils its own.
    """
    import shutil

    from engine.embed import DEFAULT_MODELS_DIR, STATIC_PCA_DIMS
    from engine.embed.static import StaticEmbedder

    name = f"static-minilm-{STATIC_PCA_DIMS}"
    if (DEFAULT_MODELS_DIR / name).exists():
        return None
    models = tmp_path_factory.mktemp("models")
    built = StaticEmbedder(models / name)
    with no_network():
        built.model  # noqa: B018  (distil now)
    staging = DEFAULT_MODELS_DIR / f".{name}.copying"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(models / name, staging)
    staging.rename(DEFAULT_MODELS_DIR / name)  # atomic: a killed session leaves no half model where nights look
    return models, built


@pytest.fixture(scope="session")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small demo log (about 2,600 requests) made by scripts/make_demo_log.py: ``requests``, the chat requests
    (the demo's own format); ``prompts``, the same requests as flat rows (same ids, times and texts), for tests that
    read or add rows; ``accounts``."""
    out = tmp_path_factory.mktemp("demo")
    for fmt in ("openai", "flat"):
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_demo_log.py"), "--out", str(out), "--scale", "0.3"]
            + ["--format", fmt],
            check=True,
            capture_output=True,
        )
    return {
        "requests": out / "demo-requests.jsonl",
        "prompts": out / "demo-prompts.jsonl",
        "accounts": out / "demo-accounts.jsonl",
    }


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def small_config(shared: Path, name: str, *, benign: int, eval_per_day: list[int], min_campaign: int) -> dict:
    """A ../shared/bench config scaled down for tests: fewer ordinary users, a quarter of each look-alike group,
    a fifth of each campaign (at least ``min_campaign`` accounts), and a lighter eval harness."""
    cfg = json.loads((shared / "bench" / name).read_text())
    cfg["corpora"] = [str(shared / "corpora")]
    cfg["benign"]["accounts"] = benign
    for hn in cfg["hard_negatives"]:
        if hn["kind"] == "eval-harness":
            hn["per_day"] = eval_per_day
        else:
            hn["accounts"] = max(2, hn["accounts"] // 4)
    for c in cfg["campaigns"]:
        c["accounts"] = max(min_campaign, c["accounts"] // 5)
    return cfg


#: prompts whose text tries to run script wherever it is shown (the UI, the report, the API's consumers); the
#: payloads would set ``window.__xss`` or the title, or open an alert, so a browser test can see whether any ran
HOSTILE_TEXTS = [
    "<script>window.__xss=1;document.title='pwned'</script> what is 2+2?",
    '"><img src=x onerror="window.__xss=2;alert(2)"> please summarise this',
    '<a href="javascript:window.__xss=3;alert(3)">click me</a> and explain recursion step by step',
    '</pre></textarea><svg onload="window.__xss=4"><style>body{display:none}</style> translate to french',
    "{{ 7*7 }} {% raw %}jinja{% endraw %} ${7*7} <iframe src=javascript:alert(5)></iframe>",
]
HOSTILE_ACCOUNT = "acct_<b>hostile</b>"


@pytest.fixture(scope="session")
def served_store(demo_log: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A store built from the demo log plus hostile prompts (and a hostile account id): what the API, the web UI
    and the report tests serve. Returns the store path and the hostile prompt ids."""
    from engine.pipeline import RunConfig, run

    rows = read_jsonl(demo_log["prompts"])
    first = rows[0]
    hostile = [
        dict(first, prompt_id=f"hostile-{i}", account_id=HOSTILE_ACCOUNT, text=t) for i, t in enumerate(HOSTILE_TEXTS)
    ]
    hostile.append(dict(first, prompt_id='p"><script>window.__xss=9</script>', account_id=HOSTILE_ACCOUNT))
    out = tmp_path_factory.mktemp("served")
    extra = out / "hostile.jsonl"
    extra.write_text("".join(json.dumps(r) + "\n" for r in hostile))
    store = out / "store"
    run(RunConfig(inputs=[demo_log["prompts"], extra], accounts=demo_log["accounts"], store=store, quiet=True))
    return {"store": store, "hostile_ids": [r["prompt_id"] for r in hostile], "extra": extra}


class LiveServer:
    """The real app under uvicorn in a background thread, bound to 127.0.0.1 on a free port."""

    def __init__(self, store: Path, **kw: object) -> None:
        import socket
        import threading
        import time

        import uvicorn

        from engine.app.api import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.app = create_app(store, **kw)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(served_store: dict) -> LiveServer:
    server = LiveServer(served_store["store"], poll_seconds=0.2)
    yield server
    server.close()
