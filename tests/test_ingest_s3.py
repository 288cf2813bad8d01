"""A night read from S3: ``--input s3://bucket/logs/dt=DAY/`` gives the verdicts of the same rows read locally.

The S3 here is a real S3 API on a local port (moto's ``ThreadedMotoServer``, the server s3fs tests against), not a
stub of our own: pyarrow's S3 filesystem lists and reads it over HTTP exactly as it would a bucket in AWS. The
endpoint and credentials reach pyarrow only through the standard ``AWS_*`` environment, the way a nightly job is
configured, so the test also proves that nothing but the environment is needed. The log is ``public.json``'s
(cut small), written as a data lake would hold it: Parquet with typed timestamps, one Hive folder per day, a
``_SUCCESS`` marker beside the data and another day that must not be read.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from engine.ingest import sources
from engine.ingest.records import InputError
from engine.pipeline import RunConfig, run
from engine.pipeline.run import RunReport
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import read_jsonl

BUCKET = "promptsim-logs"
#: the night read, and another day beside it in the bucket that must not be read
DAY, OTHER_DAY = "2026-11-21", "2026-11-20"
#: public.json at 5%: ~1,500 prompts on DAY from 177 accounts, one flagged campaign (a night takes ~4 s here)
SCALE = "0.05"
#: the verdict columns an analyst's tools read (``promptsim export`` of accounts)
VERDICT = ("account_id", "score", "flagged", "campaign_id")


@pytest.fixture(scope="module")
def log(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """public.json's log at a small scale, its rows split by UTC day, and its account table."""
    out = tmp_path_factory.mktemp("public")
    subprocess.run(
        [sys.executable, str(shared_dir / "bench" / "make_logs.py"), str(shared_dir / "bench" / "public.json"),
         str(out), "--scale", SCALE],
        check=True, capture_output=True,
    )  # fmt: skip
    days: dict[str, list[dict]] = {}
    for row in read_jsonl(out / "prompts.jsonl"):
        days.setdefault(row["timestamp"][:10], []).append(row)
    return {"days": days, "accounts": out / "accounts.jsonl"}


def _parquet(rows: list[dict]) -> bytes:
    """Rows as a Parquet file with a real timestamp column (what a table engine writes), not ISO strings."""
    typed = [dict(r, timestamp=datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))) for r in rows]
    table = pa.Table.from_pylist(typed)
    table = table.set_column(
        table.schema.get_field_index("timestamp"), "timestamp", table["timestamp"].cast(pa.timestamp("us", "UTC"))
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def s3(log: dict) -> Iterator[dict]:
    """A moto S3 server on a free local port holding the log as ``s3://BUCKET/logs/dt=DAY/part-0.parquet`` (and
    OTHER_DAY), with the AWS_* environment pointing at it for the module's tests.

    The environment is the only channel to pyarrow: a developer's own profile, config files and endpoint variables
    are cleared so the test neither reaches a real account nor depends on one. Objects are written with boto3, a
    client independent of the reader under test."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as mp:
            for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_S3_ENDPOINT"):
                mp.delenv(var, raising=False)
            mp.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
            mp.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe for a region or credentials
            mp.setenv("AWS_ACCESS_KEY_ID", "testing")
            mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
            mp.setenv("AWS_REGION", "us-east-1")
            mp.setenv("AWS_ENDPOINT_URL", endpoint)
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            for day in (DAY, OTHER_DAY):
                body = _parquet(log["days"][day])
                client.put_object(Bucket=BUCKET, Key=f"logs/dt={day}/part-0.parquet", Body=body)
            client.put_object(Bucket=BUCKET, Key=f"logs/dt={DAY}/_SUCCESS", Body=b"")
            yield {"endpoint": endpoint, "mp": mp}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def nights(s3: dict, log: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[RunReport, Tables]]:
    """One night over ``s3://BUCKET/logs/dt=DAY/`` and one over the same rows as the local JSONL they came from,
    each into its own store, with the static embedder both times."""
    out = tmp_path_factory.mktemp("nights")
    local = out / f"{DAY}.jsonl"
    local.write_text("".join(json.dumps(r) + "\n" for r in log["days"][DAY]), encoding="utf-8")
    got = {}
    for name, source in (("s3", f"s3://{BUCKET}/logs/dt={DAY}/"), ("local", str(local))):
        store = out / name
        report = run(RunConfig(inputs=[source], accounts=log["accounts"], store=store, embedder="static", quiet=True))
        got[name] = (report, Tables(Store(store).require()))
    return got


def _verdicts(tables: Tables) -> list[tuple]:
    acc = tables.accounts().sort_by("account_id")
    return list(zip(*(acc[c].to_pylist() for c in VERDICT), strict=True))


@pytest.mark.slow  # two whole nights on a generated log
def test_an_s3_partition_gives_the_verdicts_of_the_same_rows_read_locally(nights: dict, log: dict) -> None:
    (s3_report, s3_tables), (local_report, local_tables) = nights["s3"], nights["local"]
    assert s3_report.accepted == local_report.accepted == len(log["days"][DAY])
    assert s3_report.quarantined == local_report.quarantined == 0
    verdicts = _verdicts(s3_tables)
    assert verdicts == _verdicts(local_tables)
    assert any(flagged for _, _, flagged, _ in verdicts), "the night flags no one: the comparison proves little"


@pytest.mark.slow  # two whole nights on a generated log
def test_only_the_named_partition_is_read(nights: dict, log: dict) -> None:
    """Every stored prompt is DAY's and names the object it came from; the other day's rows and the ``_SUCCESS``
    marker beside the data are not read. The partition folder named directly keeps its ``dt``, as the prefix above
    it would (the listing test below)."""
    prompts = nights["s3"][1].prompts()
    assert sorted(prompts["prompt_id"].to_pylist()) == sorted(r["prompt_id"] for r in log["days"][DAY])
    assert set(prompts["source_file"].to_pylist()) == {f"s3://{BUCKET}/logs/dt={DAY}/part-0.parquet"}
    assert {json.dumps(json.loads(m)["partition"]) for m in prompts["meta"].to_pylist()} == {json.dumps({"dt": DAY})}


def test_the_service_specific_endpoint_variable_is_honoured_too(s3: dict) -> None:
    """AWS_ENDPOINT_URL_S3 alone (the per-service form of the AWS SDKs' configuration) points pyarrow at the
    server; the prefix above the partitions lists as each day's log file with its ``dt`` (the marker passed over),
    and a missing prefix is an InputError, not an empty night."""
    mp = s3["mp"]
    mp.delenv("AWS_ENDPOINT_URL")
    mp.setenv("AWS_ENDPOINT_URL_S3", s3["endpoint"])
    try:
        files = sources.expand(f"s3://{BUCKET}/logs/")
        assert [(f.name, f.partition) for f in files] == [
            (f"s3://{BUCKET}/logs/dt={d}/part-0.parquet", {"dt": d}) for d in sorted((DAY, OTHER_DAY))
        ]
        with pytest.raises(InputError, match="no such object"):
            sources.expand(f"s3://{BUCKET}/logs/dt=1999-01-01/")
    finally:
        mp.delenv("AWS_ENDPOINT_URL_S3")
        mp.setenv("AWS_ENDPOINT_URL", s3["endpoint"])
