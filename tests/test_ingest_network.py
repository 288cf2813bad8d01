"""Client IP addresses to networks (engine.ingest.network): prefixes without a database, ASNs with one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.ingest.network import Networks, is_prefix
from engine.ingest.records import Quarantine
from tests.test_ingest import read_all, records, row, write_jsonl


def _asn_db(path: Path) -> Path:
    """A small GeoLite2-ASN-shaped database, written by mmdb-writer (a MaxMind-format writer, not our code)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    w = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    w.insert_network(IPSet(["8.8.8.0/24"]), {"autonomous_system_number": 15169, "autonomous_system_organization": "G"})
    w.insert_network(
        IPSet(["2a03:2880::/32"]), {"autonomous_system_number": 32934, "autonomous_system_organization": "F"}
    )
    w.to_db_file(str(path))
    return path


def test_without_a_database_the_prefix_stands_in_for_the_network() -> None:
    net = Networks()
    assert net("203.0.113.77") == "net:203.0.113.0/24"
    assert net(" 203.0.113.200 ") == "net:203.0.113.0/24"  # the same /24, whitespace around ignored
    assert net("2001:db8:1:2::5") == "net:2001:db8:1::/48"
    assert net("::ffff:198.51.100.9") == "net:198.51.100.0/24"  # IPv4-mapped counts as its IPv4 address
    assert is_prefix(net("10.1.2.3")) and not is_prefix("AS15169")
    for bad in ("999.1.1.1", "example.com", "", 12345):
        with pytest.raises(ValueError):
            net(bad)


def test_with_a_database_an_address_becomes_its_asn_and_an_unlisted_one_its_prefix(tmp_path: Path) -> None:
    net = Networks(_asn_db(tmp_path / "asn.mmdb"))
    assert net("8.8.8.8") == "AS15169"
    assert net("2a03:2880:f10c::1") == "AS32934"
    assert net("192.0.2.1") == "net:192.0.2.0/24"  # not in the database
    net.close()
    with pytest.raises(ValueError, match="cannot open the ASN database"):
        Networks(tmp_path / "missing.mmdb")


def test_records_with_an_ip_get_its_network_a_bad_ip_is_quarantined_and_the_address_is_not_kept(
    tmp_path: Path,
) -> None:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            row("a", ip="8.8.8.8"),
            row("b", ip="203.0.113.9"),
            row("c", ip="8.8.8.8", ip_asn="AS1"),  # an ASN given wins
            row("d", ip="not-an-ip"),
            row("e", ip=None),
            row("f", ip="8.8.8.8", extra="kept"),
        ],
    )
    with Quarantine(tmp_path / "q.jsonl") as q:
        t = read_all(path, q, networks=Networks(_asn_db(tmp_path / "asn.mmdb")))
        bad = records(q)
    got = dict(zip(t["prompt_id"].to_pylist(), t["ip_asn"].to_pylist(), strict=True))
    assert got == {"a": "AS15169", "b": "net:203.0.113.0/24", "c": "AS1", "e": None, "f": "AS15169"}
    assert [(r["line"], r["field"], r["reason"]) for r in bad] == [(4, "ip", "bad_ip")]
    assert all("8.8.8.8" not in (m or "") for m in t["meta"].to_pylist())  # the address itself is not stored


def test_run_refuses_an_asn_database_that_will_not_open_in_one_line(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "p.jsonl", [row("a", ip="8.8.8.8")])
    bad = tmp_path / "asn.mmdb"
    bad.write_bytes(b"not a database")
    out = subprocess.run(
        [sys.executable, "-m", "engine.app.cli", "run", "--input", str(log), "--asn-db", str(bad),
         "--store", str(tmp_path / "store"), "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode != 0 and "--asn-db" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_a_log_of_client_ips_gives_the_verdicts_of_the_same_log_with_asns(demo_log: dict, tmp_path: Path) -> None:
    """The demo log with each ASN replaced by addresses in a /24 of its own: with a database naming those blocks
    the run sees the same networks and gives the same verdicts; without one, the /24s stand in one for one."""
    import ipaddress
    import json

    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    from engine.pipeline import RunConfig, run
    from engine.store import Store
    from engine.store.tables import Tables

    rows = [json.loads(line) for line in demo_log["prompts"].read_text().splitlines() if line.strip()]
    asns = sorted({r["ip_asn"] for r in rows if r.get("ip_asn")})
    block = {a: ipaddress.ip_network(f"10.{i // 256}.{i % 256}.0/24") for i, a in enumerate(asns)}
    w = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    for a, net in block.items():
        w.insert_network(IPSet([str(net)]), {"autonomous_system_number": int(a[2:])})
    w.to_db_file(str(tmp_path / "asn.mmdb"))
    with_ips = []
    for i, r in enumerate(rows):
        r = dict(r)
        if r.get("ip_asn"):
            r["ip"] = str(block[r.pop("ip_asn")][1 + i % 250])  # many clients in each network
        with_ips.append(r)
    ip_log = write_jsonl(tmp_path / "ips.jsonl", with_ips)

    def verdicts(log: Path, store: str, asn_db: Path | None) -> dict:
        run(RunConfig(inputs=[log], accounts=demo_log["accounts"], store=tmp_path / store, quiet=True,
                      asn_db=str(asn_db) if asn_db else None))  # fmt: skip
        t = Tables(Store(tmp_path / store).require()).accounts().select(["account_id", "score", "flagged"])
        return {r["account_id"]: (round(r["score"], 6), r["flagged"]) for r in t.to_pylist()}

    want = verdicts(demo_log["prompts"], "asn", None)
    assert any(flagged for _, flagged in want.values())
    assert verdicts(ip_log, "db", tmp_path / "asn.mmdb") == want
    assert verdicts(ip_log, "prefix", None) == want
