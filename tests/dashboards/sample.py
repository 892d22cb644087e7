"""A small, realistic day of Touchpoint output in ClickHouse with its expected answers, shared by the dashboard and
report tests: loaded with the project's own migrations into embedded chdb."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from touchpoint.clickhouse.backends import connect
from touchpoint.clickhouse.migrations import migrate
from udfs.effect import uplift

#: Recent, because dlq and loader_progress have a short TTL (14 and 7 days): older rows vanish at insert.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
WINDOWS = 8  # 15-minute windows: 01:00 .. 03:00 UTC
MIN_SAMPLE = 3  # effect.min_sample the sample was computed with: small, so some campaigns have an estimate

#: (id, name, kind, lat, lon, typical subscribers present, typical G3 coverage)
REGIONS = [
    ("r-xinjiekou-mall", "Xinjiekou Mall", "mall", 32.0417, 118.7840, 380, 0.18),
    ("r-deji-plaza", "Deji Plaza", "mall", 32.0446, 118.7896, 260, 0.22),
    ("r-hexi-mall", "Hexi Wanda Mall", "mall", 32.0030, 118.7300, 210, 0.35),
    ("r-south-station", "Nanjing South Station", "transport", 31.9686, 118.7975, 420, 0.41),
    ("r-railway-station", "Nanjing Railway Station", "transport", 32.0892, 118.7973, 300, 0.38),
    ("r-xianlin-campus", "Xianlin Campus", "campus", 32.1082, 118.9140, 330, 0.62),
    ("r-gulou-campus", "Gulou Campus", "campus", 32.0566, 118.7781, 240, 0.55),
    ("r-zhujiang-store", "Zhujiang Road Handset Store", "handset_store", 32.0487, 118.7879, 40, 0.27),
    ("r-confucius", "Confucius Temple", "scenic", 32.0205, 118.7886, 190, 0.12),
    ("r-hexi-office", "Hexi Office Tower", "office", 32.0089, 118.7400, 160, 0.48),
    ("r-jiangning-res", "Jiangning Residences", "residential", 31.9536, 118.8400, 280, 0.30),
    ("r-gulou-res", "Gulou Residences", "residential", 32.0700, 118.7700, 8, 0.25),  # tiny: some windows withheld
]
PRODUCTS = ["G3 data pack", "G3 handset bundle", "Voice 58", "SMS 100", "Family plan"]
#: campaign -> (trigger kind, triggers, lead share, control share)
CAMPAIGNS = {
    "mall-entry-shop": ("region_entry", 60, 0.5, 0.1),
    "dial-114-12580": ("dial_114", 30, 0.6, 0.1),
    "handset-store-g3": ("handset_store_visits", 12, 0.7, 0.0),
    "quota-20mb-reminder": ("quota_20mb", 25, 0.8, 0.12),
}
#: campaign -> its offer variants: treatment lead i offers VARIANTS[cid][i % n]
VARIANTS = {"mall-entry-shop": ("ten-percent", "fifteen-percent")}
#: the guardrail topic: (campaign, state, by, reason, minutes after T0); dial-114 paused, quota-20mb paused then
#: resumed (its latest record is the resume)
GUARDRAIL = [
    ("dial-114-12580", "paused", "guardrail", "uplift interval below zero", 90),
    ("quota-20mb-reminder", "paused", "guardrail", "uplift interval below zero", 60),
    ("quota-20mb-reminder", "active", "ana", "the offer text is fixed", 100),
]
REASONS = ["audience", "cooldown", "contact_cap", "quiet_hours", "no_consent", "budget", "lower_priority"]


def _epoch_s(dt: datetime) -> int:
    return int(dt.timestamp())


def sample_data(seed: int = 7) -> tuple[dict[str, list[tuple]], dict]:
    """A small, realistic day of Touchpoint output: table -> rows (in COLUMNS order), and the expected answers."""
    rnd = random.Random(seed)
    rows: dict[str, list[tuple]] = defaultdict(list)
    expected: dict = {
        "latest": {},
        "funnel": {},
        "suppressed": defaultdict(int),
        "control": {},
        # (campaign, arm) -> leads, delivered, converted: the results panel's counts
        "results": defaultdict(lambda: {"leads": 0, "delivered": 0, "converted": 0}),
        "variant_counts": defaultdict(lambda: [0, 0, 0, 0]),  # variant uplift group -> its four counts
    }

    for rid, name, kind, lat, lon, subs, cov in REGIONS:
        rows["regions"].append((rid, name, kind, int(kind != "residential"), lat, lon))
        for w in range(WINDOWS):
            present = max(1, int(subs * rnd.uniform(0.8, 1.2)))
            if subs < 10 and w >= WINDOWS - 3:
                continue  # under region_metrics.min_subscribers: not published (its latest window is earlier)
            g3 = int(round(present * min(0.95, max(0.0, cov + w * 0.01 + rnd.uniform(-0.03, 0.03)))))
            capable = min(present, g3 + int((present - g3) * rnd.uniform(0.25, 0.45)))
            opportunities = capable - g3
            counts = sorted((p, rnd.randint(1, present)) for p in PRODUCTS)
            start = T0 + timedelta(minutes=15 * w)
            row = (
                rid,
                name,
                kind,
                lat,
                lon,
                _epoch_s(start),
                _epoch_s(start + timedelta(minutes=15)),
                present,
                g3,
                capable,
                opportunities,
                g3 / present,
                rnd.uniform(0.05, 0.5),
                [p for p, _ in counts],
                [c for _, c in counts],
            )
            rows["region_metrics"].append(row)
            expected["latest"][rid] = row
    # a redelivered region record (ReplacingMergeTree twin) must not change anything
    rows["region_metrics"].append(rows["region_metrics"][3])

    n = 0
    for cid, (kind, triggers, lead_share, control_share) in CAMPAIGNS.items():
        f = {"triggers": 0, "leads": 0, "delivered": 0, "converted": 0}
        c = {"treatment_leads": 0, "treatment_converted": 0, "control_leads": 0, "control_converted": 0}
        for i in range(triggers):
            n += 1
            ts = T0 + timedelta(seconds=rnd.randint(0, WINDOWS * 900 - 1))
            msisdn = f"1395{n:07d}"
            tid = f"t-{cid[:6]}-{i:04d}"
            detected = ts + timedelta(seconds=rnd.randint(1, 70))
            rows["triggers"].append(
                (
                    tid,
                    msisdn,
                    kind,
                    _epoch_s(ts),
                    _epoch_s(ts) * 1000,
                    _epoch_s(detected),
                    _epoch_s(detected) * 1000,
                    json.dumps({"campaign_hint": cid}, sort_keys=True),
                )
            )
            decided = detected + timedelta(seconds=1)
            u = rnd.random()
            result = "lead" if u < lead_share else ("control" if u < lead_share + control_share else "suppressed")
            reason = "" if result != "suppressed" else rnd.choice(REASONS)
            lead_id = f"l-{cid[:6]}-{i:04d}" if result != "suppressed" else ""
            did = f"d-{cid[:6]}-{i:04d}"
            drow = (
                did,
                tid,
                kind,
                msisdn,
                cid,
                _epoch_s(ts),
                _epoch_s(decided),
                _epoch_s(decided) * 1000,
                result,
                reason,
                f"data_mb_24h gte 200 (is {rnd.uniform(0, 150):.1f})" if reason == "audience" else "",
                lead_id,
                _epoch_s(decided) if lead_id else 0,
            )
            rows["decisions"].append(drow)
            if i % 7 == 0:
                rows["decisions"].append(drow)  # at-least-once: the same decision twice
            f["triggers"] += 1
            if result == "suppressed":
                expected["suppressed"][reason] += 1
                continue
            control = result == "control"
            variants = VARIANTS.get(cid, ())
            variant = variants[i % len(variants)] if variants and not control else ""
            arms = ["control"] if control else ["treatment"] + ([f"variant {variant}"] if variant else [])
            rows["leads"].append(
                (
                    lead_id,
                    msisdn,
                    cid,
                    f"offer-{cid[:8]}",
                    "sms",
                    ["sms", "outbound_call"],
                    f"Hello from {cid}",
                    tid,
                    kind,
                    _epoch_s(ts),
                    _epoch_s(ts) * 1000,
                    _epoch_s(decided),
                    _epoch_s(decided) * 1000,
                    _epoch_s(decided),
                    _epoch_s(ts + timedelta(hours=48)),
                    int(control),
                    [f"trigger:{kind}", "priority:5"] + (["control_group"] if control else []),
                    variant,
                )
            )
            delivered = False
            converted = False
            if control:
                c["control_leads"] += 1
                converted = rnd.random() < 0.08
                c["control_converted"] += converted
            else:
                f["leads"] += 1
                c["treatment_leads"] += 1
                if rnd.random() < 0.9:
                    delivered = True
                    f["delivered"] += 1
                    at = decided + timedelta(seconds=5)
                    rows["outcomes"].append(
                        (
                            f"o-{lead_id}-d",
                            lead_id,
                            tid,
                            msisdn,
                            cid,
                            "delivered",
                            "",
                            _epoch_s(at),
                            _epoch_s(at) * 1000,
                            "",
                        )
                    )
                    converted = rnd.random() < 0.3
                    f["converted"] += converted
                    c["treatment_converted"] += converted
            for arm in arms:
                got = expected["results"][(cid, arm)]
                got["leads"] += 1
                got["delivered"] += delivered
                got["converted"] += converted
            if variant:
                vc = expected["variant_counts"][f"variant|{cid}|||{variant}"]
                vc[0] += 1
                vc[1] += converted
            if converted:
                at = decided + timedelta(minutes=rnd.randint(5, 90))
                order = f"ord-{lead_id}"
                rows["outcomes"].append(
                    (
                        f"o-{lead_id}-c",
                        lead_id,
                        tid,
                        msisdn,
                        cid,
                        "converted",
                        "order",
                        _epoch_s(at),
                        _epoch_s(at) * 1000,
                        order,
                    )
                )
                rows["orders"].append(
                    (order, msisdn, "g3-pack", "data", "subscribe", "sms", lead_id, _epoch_s(at), _epoch_s(at) * 1000)
                )
        expected["funnel"][cid] = f
        expected["control"][cid] = c
        # the effect job's uplift records of the campaign: an earlier version, then the latest
        counts = (c["treatment_leads"], c["treatment_converted"], c["control_leads"], c["control_converted"])
        for version, part in ((1, 2), (2, 1)):
            u = uplift(*(n // part for n in counts), min_sample=MIN_SAMPLE)
            rows["uplift"].append(
                (
                    f"campaign|{cid}||",
                    "campaign",
                    cid,
                    "",
                    "",
                    "",
                    *(n // part for n in counts),
                    u.treatment_rate,
                    u.control_rate,
                    u.absolute,
                    u.relative,
                    u.ci_low,
                    u.ci_high,
                    int(u.enough_data),
                    version,
                    _epoch_s(T0),
                    _epoch_s(T0) * 1000,
                )
            )
        # each variant against the campaign's control group: one record, the latest
        for v in VARIANTS.get(cid, ()):
            vc = expected["variant_counts"][f"variant|{cid}|||{v}"]
            vc[2:] = [c["control_leads"], c["control_converted"]]
            u = uplift(*vc, min_sample=MIN_SAMPLE)
            rows["uplift"].append(
                (f"variant|{cid}|||{v}", "variant", cid, "", "", v, *vc, u.treatment_rate, u.control_rate)
                + (
                    u.absolute,
                    u.relative,
                    u.ci_low,
                    u.ci_high,
                    int(u.enough_data),
                    1,
                    _epoch_s(T0),
                    _epoch_s(T0) * 1000,
                )
            )
    rows["outcomes"].append(rows["outcomes"][0])  # redelivered outcome
    for cid, state, by, reason, minutes in GUARDRAIL:
        at = _epoch_s(T0 + timedelta(minutes=minutes))
        u = uplift(*expected["control"][cid].values(), min_sample=MIN_SAMPLE) if state == "paused" else None
        figures = (u.absolute, u.ci_low, u.ci_high, 2) if u else (None, None, None, 0)
        rows["guardrail"].append((cid, state, by, reason, *figures, at, at * 1000))
    rows["guardrail"].append(rows["guardrail"][0])  # redelivered

    # trial journeys: steps and ends of trials started in the sample's day, one end delivered twice
    journey: dict[str, int] = defaultdict(int)
    for i in range(40):
        msisdn, order = f"1380000{i:04d}", f"o-trial-{i}"
        start = T0 + timedelta(minutes=3 * i)
        fate = ("converted", "declined", "not_contactable", "no_usage", "low_usage", None)[i % 6]
        steps = ["welcome"] + (["usage_nudge"] if fate in ("no_usage", "low_usage", "not_contactable") else [])
        steps += ["reminder"] if fate not in ("converted", None) else []
        for k, step in enumerate(steps):
            rows["journey_events"].append(_journey_row(f"j-{i}-{step}", msisdn, "journey_step", step, order, start, k))
        if fate:
            result = "converted" if fate == "converted" else "not_converted"
            reason = "" if fate == "converted" else fate
            end = _journey_row(f"j-{i}-end", msisdn, "journey_end", "end", order, start, 9, result, reason)
            rows["journey_events"].append(end)
        journey["started"] += 1
        journey["nudged"] += "usage_nudge" in steps
        journey["reminded"] += "reminder" in steps
        journey[fate or "running"] += 1
    rows["journey_events"].append(rows["journey_events"][-1])  # redelivered
    expected["journey"] = dict(journey)

    for minute in range(WINDOWS * 15):
        start = T0 + timedelta(minutes=minute)
        for source, etype, base in [
            ("signaling", "location_update", 900),
            ("signaling", "mo_call", 240),
            ("signaling", "mo_sms", 120),
            ("xdr", "data_session", 600),
        ]:
            rows["traffic"].append(
                (
                    _epoch_s(start),
                    _epoch_s(start + timedelta(minutes=1)),
                    source,
                    etype,
                    int(base * rnd.uniform(0.8, 1.2)),
                )
            )
        if minute % 4 == 0:
            for topic, end in [("triggers", 200), ("decisions", 260), ("region_metrics", 90)]:
                lag = rnd.randint(0, 40)
                rows["loader_progress"].append(
                    (_epoch_s(start), topic, 0, end * minute - lag, end * minute, lag, 100, "touchpoint-loader")
                )
    for k in range(40):
        ts = T0 + timedelta(minutes=rnd.randint(0, WINDOWS * 15 - 1))
        reason = rnd.choice(["bad_json", "missing_field", "late", "ts_out_of_range"])
        rows["dlq"].append(
            (
                "signaling" if k % 3 else "xdr",
                reason,
                "field ts" if reason != "bad_json" else "",
                f"e{k}",
                _epoch_s(ts),
                _epoch_s(ts) * 1000,
                "{broken",
                f"dlq-{k}",
            )
        )
    return rows, expected


COLUMNS = {
    "regions": ["region_id", "name", "kind", "watched", "lat", "lon"],
    "region_metrics": [
        "region_id",
        "region_name",
        "region_kind",
        "lat",
        "lon",
        "window_start",
        "window_end",
        "subscribers",
        "g3_subscribers",
        "g3_capable",
        "opportunities",
        "g3_coverage",
        "g3_data_share",
        "product_names",
        "product_counts",
    ],
    "triggers": ["trigger_id", "msisdn", "kind", "ts", "ts_ms", "detected_at", "detected_at_ms", "context"],
    "decisions": [
        "decision_id",
        "trigger_id",
        "trigger_kind",
        "msisdn",
        "campaign_id",
        "trigger_ts",
        "decided_at",
        "decided_at_ms",
        "result",
        "reason",
        "detail",
        "lead_id",
        "deliver_at",
    ],
    "leads": [
        "lead_id",
        "msisdn",
        "campaign_id",
        "offer_id",
        "channel",
        "channels",
        "message",
        "trigger_id",
        "trigger_kind",
        "trigger_ts",
        "trigger_ts_ms",
        "created_at",
        "created_at_ms",
        "deliver_at",
        "expires_at",
        "control",
        "reasons",
        "variant_id",
    ],
    "outcomes": [
        "outcome_id",
        "lead_id",
        "trigger_id",
        "msisdn",
        "campaign_id",
        "status",
        "reason",
        "ts",
        "ts_ms",
        "order_id",
    ],
    "orders": ["order_id", "msisdn", "product_id", "product_kind", "action", "channel", "lead_id", "ts", "ts_ms"],
    "uplift": [
        "uplift_id",
        "scope",
        "campaign_id",
        "trigger_kind",
        "day",
        "variant_id",
        "treatment_leads",
        "treatment_converted",
        "control_leads",
        "control_converted",
        "treatment_rate",
        "control_rate",
        "uplift",
        "relative_uplift",
        "ci_low",
        "ci_high",
        "enough_data",
        "version",
        "ts",
        "ts_ms",
    ],
    "journey_events": [
        "event_id",
        "msisdn",
        "kind",
        "journey_id",
        "step",
        "order_id",
        "product_id",
        "trial_start",
        "trial_end",
        "usage_mb",
        "result",
        "reason",
        "ts",
        "ts_ms",
    ],
    "traffic": ["window_start", "window_end", "source", "event_type", "events"],
    "guardrail": [
        "campaign_id",
        "state",
        "by",
        "reason",
        "uplift",
        "ci_low",
        "ci_high",
        "uplift_version",
        "ts",
        "ts_ms",
    ],
    "loader_progress": ["ts", "topic", "partition", "committed", "end_offset", "lag", "rows", "group_id"],
    "dlq": ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"],
}


def _journey_row(eid, msisdn, kind, step, order, start, k, result="", reason="") -> tuple:
    ts = _epoch_s(start + timedelta(minutes=10 * k))
    trial_start = _epoch_s(start)
    return (
        eid,
        msisdn,
        kind,
        "music-club-trial",
        step,
        order,
        "music_club",
        trial_start,
        trial_start + 21600,
        1.5,
        result,
        reason,
        ts,
        ts * 1000,
    )


def load_sample(settings, seed: int = 7) -> dict:
    """Migrate the chdb database of ``settings`` with the project's migrations and load the sample; returns the
    expected answers. Closes chdb again (one data directory per process, and the code under test opens it)."""
    rows, expected = sample_data(seed)
    with connect(settings) as backend:
        migrate(backend, settings)
        for table, cols in COLUMNS.items():
            backend.insert(table, cols, rows[table])
    return expected


def config_file(settings, directory: Path) -> Path:
    p = directory / "touchpoint.yaml"
    p.write_text(f"paths:\n  work_dir: {settings.paths.work_dir}\n")
    return p
