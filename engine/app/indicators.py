"""Indicators that travel: a campaign as a STIX 2.1 bundle with no raw prompt text and no raw account, card or org
id, and the matching of such a bundle against another store.

A lab that was distilled shares what identifies the operation, not its users' data. Per campaign the bundle holds:

* a ``campaign`` SDO (name ``promptsim <id>``, first/last seen) that everything else relates to;
* one ``indicator`` per template skeleton: pattern ``[x-promptsim-template:minhash = '<hex>']``, the MinHash
  signature (``engine.text.minhash``, 128 x uint32, datasketch-compatible) of the *masked* skeleton -- the wrapper
  text itself is not in the bundle, and a signature cannot be read back into it;
* one ``indicator`` per card and per org: pattern ``[x-promptsim-account:payment_hmac = '<hex>']`` (``org_hmac``),
  HMAC-SHA256 under a key the exporting team chooses and shares with the receiving one (without the key a hash
  cannot be tested against guesses);
* one ``observed-data`` over the campaign's ``autonomous-system`` objects (ASNs are infrastructure, not people),
  carrying the fingerprints as custom properties: ``x_promptsim_accounts``, ``x_promptsim_prompts``,
  ``x_promptsim_areas`` (share of prompts per capability area), ``x_promptsim_hours`` (share of requests per UTC hour),
  ``x_promptsim_clients`` (share per user agent), ``x_promptsim_score``.

Every object carries the chosen TLP marking (``--tlp``, default amber). ``match`` reads a bundle and, on this
store, scores each of its campaigns against each local campaign and account: template similarity (estimated
Jaccard of the MinHash signatures), keyed cards and orgs in common (hashed here with the same key), ASNs in common,
and the area fingerprint's overlap; it lists what matched with a similarity and which indicators said so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from typing import Any

import numpy as np
import stix2

from engine.store import Store, StoreError
from engine.store.tables import Tables
from engine.text.minhash import MinHasher, jaccard
from engine.text.normalize import mask

TLP = {"white": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER, "red": stix2.TLP_RED}
#: a local template matches a bundle's when their estimated Jaccard is at least this (the LSH near-duplicate bar)
TEMPLATE_MATCH = 0.5
_PATTERN = re.compile(r"^\[x-promptsim-(template|account):(minhash|payment_hmac|org_hmac) = '([0-9a-f]+)'\]$")


def keyed(value: str, key: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _signatures(templates: list[str]) -> np.ndarray:
    return MinHasher().signatures([mask(t) for t in templates]) if templates else np.zeros((0, 128), np.uint32)


def _traffic(tables: Tables, members: list[str]) -> dict[str, Any]:
    """ASNs, clients and the hour-of-day profile of the members' prompts in the window."""
    t = tables.snap.query(
        "SELECT p.ip_asn, p.user_agent, hour(p.timestamp) AS h FROM window_prompts w JOIN prompts p USING (prompt_id) "
        "WHERE list_contains(?, p.account_id)",
        [members],
    ).to_pydict()
    n = max(len(t["h"]), 1)
    hours = np.bincount(np.asarray(t["h"], dtype=np.int64), minlength=24)[:24] / n
    clients = Counter(c or "" for c in t["user_agent"])
    return {
        "asns": sorted({a for a in t["ip_asn"] if a}),
        "hours": [round(float(x), 4) for x in hours],
        "clients": {k: round(v / n, 4) for k, v in clients.most_common(8) if k},
    }


def export_bundle(store: Store, campaign_ids: list[str], *, key: str, tlp: str = "amber") -> stix2.Bundle:
    """The STIX 2.1 bundle of the given campaigns of the store's current night (see module doc)."""
    if len(key) < 8:
        raise ValueError("key: at least 8 characters (the HMAC key the receiving team will use too)")
    marking = TLP[tlp]
    tables = Tables(store.require())
    accounts = {
        r["account_id"]: r for r in tables.accounts().select(["account_id", "payment_fp", "org_id"]).to_pylist()
    }
    producer = stix2.Identity(name="promptsim", identity_class="system", object_marking_refs=[marking])
    objects: list[Any] = [producer]
    for cid in campaign_ids:
        row = tables.campaign(cid)
        if row is None:
            raise StoreError(f"no campaign {cid!r} in this store (see `promptsim campaigns --all`)")
        common = {"created_by_ref": producer.id, "object_marking_refs": [marking]}
        camp = stix2.Campaign(name=f"promptsim {cid}", first_seen=row["first_seen"], last_seen=row["last_seen"],
                              description="capability-extraction campaign found by promptsim", **common)  # fmt: skip
        objects.append(camp)
        rel = []
        for sig in _signatures(list(row["templates"] or [])):
            rel.append(stix2.Indicator(name="template skeleton (MinHash of the masked skeleton)",
                                       pattern=f"[x-promptsim-template:minhash = '{sig.astype('>u4').tobytes().hex()}']",
                                       pattern_type="stix", valid_from=row["first_seen"], **common))  # fmt: skip
        members = [accounts[a] for a in row["member_ids"] or [] if a in accounts]
        for field, prop in (("payment_fp", "payment_hmac"), ("org_id", "org_hmac")):
            for value in sorted({m[field] for m in members if m[field]}):
                rel.append(stix2.Indicator(name=f"keyed {prop.split('_')[0]}",
                                           pattern=f"[x-promptsim-account:{prop} = '{keyed(value, key)}']",
                                           pattern_type="stix", valid_from=row["first_seen"], **common))  # fmt: skip
        traffic = _traffic(tables, list(row["member_ids"] or []))
        asn_objs = [stix2.AutonomousSystem(number=int(a.removeprefix("AS")), object_marking_refs=[marking])
                    for a in traffic["asns"] if a.removeprefix("AS").isdigit()]  # fmt: skip
        areas = json.loads(row["areas"] or "{}")
        total = max(sum(areas.values()), 1)
        observed = stix2.ObservedData(
            first_observed=row["first_seen"], last_observed=row["last_seen"], number_observed=max(row["prompts"], 1),
            object_refs=[a.id for a in asn_objs] or [producer.id], allow_custom=True,
            x_promptsim_campaign=cid, x_promptsim_accounts=row["accounts"], x_promptsim_prompts=row["prompts"],
            x_promptsim_score=row["score"], x_promptsim_areas={k: round(v / total, 4) for k, v in areas.items()},
            x_promptsim_hours=traffic["hours"], x_promptsim_clients=traffic["clients"], **common,
        )  # fmt: skip
        rel.append(observed)
        objects += asn_objs + rel
        objects += [stix2.Relationship(r, "indicates" if r.type == "indicator" else "related-to", camp, **common)
                    for r in rel]  # fmt: skip
    return stix2.Bundle(objects=objects, allow_custom=True)


def _read(bundle: dict) -> dict[str, dict]:
    """Per campaign of a bundle: its template signatures, keyed cards and orgs, ASNs and area fingerprint."""
    objs = {o["id"]: o for o in bundle.get("objects", [])}
    out: dict[str, dict] = {}
    for o in objs.values():
        if o.get("type") == "campaign":
            out[o["id"]] = {"name": o.get("name", ""), "templates": [], "payment_hmac": set(), "org_hmac": set(),
                            "asns": set(), "areas": {}}  # fmt: skip
    for o in objs.values():
        if o.get("type") != "relationship" or o.get("target_ref") not in out:
            continue
        c, src = out[o["target_ref"]], objs.get(o.get("source_ref"), {})
        if src.get("type") == "indicator":
            m = _PATTERN.match(src.get("pattern", ""))
            if m and m.group(2) == "minhash":
                c["templates"].append(np.frombuffer(bytes.fromhex(m.group(3)), dtype=">u4").astype(np.uint32))
            elif m:
                c[m.group(2)].add(m.group(3))
        elif src.get("type") == "observed-data":
            c["areas"] = src.get("x_promptsim_areas", {})
            c["asns"] = {
                f"AS{objs[r]['number']}"
                for r in src.get("object_refs", [])
                if objs.get(r, {}).get("type") == "autonomous-system"
            }
    return out


def match_bundle(store: Store, bundle: dict, *, key: str) -> list[dict]:
    """Local campaigns and accounts that match each campaign of ``bundle``: similarity and the indicators behind it.

    A campaign matches by its templates (best estimated Jaccard of any pair, at least ``TEMPLATE_MATCH``) or by
    keyed cards or orgs in common; ASNs and the area fingerprint only add to a match, never make one (many
    unrelated campaigns share a cloud ASN or ask math). Similarity = the template Jaccard, or 1 for a shared card
    or org, plus a tenth each for shared ASNs and for area overlap (capped at 1)."""
    tables = Tables(store.require())
    acc = tables.accounts().select(["account_id", "payment_fp", "org_id", "campaign_id", "flagged"]).to_pylist()
    card_of = {keyed(r["payment_fp"], key): r["payment_fp"] for r in acc if r["payment_fp"]}
    org_of = {keyed(r["org_id"], key): r["org_id"] for r in acc if r["org_id"]}
    local = tables.campaigns().to_pylist()
    sigs = {c["campaign_id"]: _signatures(list(c["templates"] or [])) for c in local}
    out = []
    for theirs in _read(bundle).values():
        cards = {card_of[h] for h in theirs["payment_hmac"] if h in card_of}
        orgs = {org_of[h] for h in theirs["org_hmac"] if h in org_of}
        for c in local:
            why, sim = [], 0.0
            mine = sigs[c["campaign_id"]]
            if len(mine) and theirs["templates"]:
                j = max(float(jaccard(a, b)) for a in mine for b in theirs["templates"])
                if j >= TEMPLATE_MATCH:
                    why.append(f"template Jaccard {j:.2f}")
                    sim = j
            ids = set(c["member_ids"] or [])
            members = [r for r in acc if r["account_id"] in ids]
            shared_cards = {r["payment_fp"] for r in members} & cards
            shared_orgs = {r["org_id"] for r in members} & orgs
            if shared_cards or shared_orgs:
                why.append(f"{len(shared_cards)} keyed card(s), {len(shared_orgs)} keyed org(s) in common")
                sim = 1.0
            if not why:
                continue
            asns = set(_traffic(tables, list(c["member_ids"] or []))["asns"]) & theirs["asns"]
            if asns:
                why.append(f"{len(asns)} ASN(s) in common")
                sim += 0.1
            areas = json.loads(c["areas"] or "{}")
            total = max(sum(areas.values()), 1)
            overlap = sum(min(v / total, theirs["areas"].get(k, 0.0)) for k, v in areas.items())
            if overlap:
                why.append(f"area overlap {overlap:.2f}")
                sim += 0.1 * overlap
            out.append({"bundle_campaign": theirs["name"], "campaign_id": c["campaign_id"], "similarity": round(min(sim, 1.0), 3),
                        "accounts": c["accounts"], "flagged": c["flagged"], "matched": why})  # fmt: skip
        # accounts outside any matched campaign that use a shared card or org
        matched = {m["campaign_id"] for m in out if m["bundle_campaign"] == theirs["name"]}
        for r in acc:
            if r["campaign_id"] in matched:
                continue
            if r["payment_fp"] in cards or r["org_id"] in orgs:
                out.append({"bundle_campaign": theirs["name"], "account_id": r["account_id"], "similarity": 1.0,
                            "matched": ["keyed card" if r["payment_fp"] in cards else "keyed org"]})  # fmt: skip
    return sorted(out, key=lambda m: -m["similarity"])
