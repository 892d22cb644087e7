"""triggers: the marketing moments of docs/triggers.md, detected in Flink SQL from normalised signaling and xDRs."""

import re
from zoneinfo import ZoneInfo

from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import sql_list

DESCRIPTION = "CEP patterns over signaling- and xdr-normalised -> triggers (late events -> dlq)"
INPUTS = ("signaling_normalised", "xdr_normalised")
OUTPUTS = ("triggers", "dlq")
REFERENCE = ("cells", "regions", "handsets", "number_ranges")
#: Reference tables and kinds of the data-plan triggers: the xDR source is read only when one of these kinds is on.
XDR_REFERENCE = ("profiles",)
XDR_KINDS = frozenset({"abnormal_usage"})


def uses_xdr(kind: str) -> bool:
    """Whether a kind is detected from xDRs (quota_<n>mb, abnormal_usage)."""
    return kind in XDR_KINDS or re.fullmatch(r"quota_\d+mb", kind) is not None


def parameters(settings: Settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/triggers/, from the triggers settings."""
    t = settings.triggers
    return {
        "min_outside_ms": t.region_entry_min_outside_minutes * 60_000,
        "dwell_minutes": t.dwell_minutes,
        "dwell_ms": t.dwell_minutes * 60_000,
        "directory_number": t.directory_number,
        "hotline_numbers": sql_list(t.hotline_numbers),
        "home_plmns": sql_list(settings.network.home_plmns),
        "home_province": sql_list([settings.network.home_province]),
        "roam_in_gap_ms": round(t.roam_in_gap_hours * 3_600_000),
        "power_on_min_off_ms": round(t.power_on_min_off_hours * 3_600_000),
        "handset_store_days": t.handset_store_days,
        "handset_store_visits": t.handset_store_visits,
        "timezone": settings.simulator.timezone,
        # The billing month (yyyy-MM in the timezone) in which profiles' data_used_mb applies.
        "start_month": settings.simulator.start.astimezone(ZoneInfo(settings.simulator.timezone)).strftime("%Y-%m"),
        "abnormal_usage_bytes": t.abnormal_usage_mb * 1_048_576,
    }


def build(p: Pipeline) -> None:
    p.create_event_source("tables/signaling_normalised.sql", "signaling_normalised")
    kinds = p.settings.triggers.kinds
    xdr = any(uses_xdr(k) for k in kinds)
    if xdr:
        p.create_event_source("tables/xdr_normalised.sql", "xdr_normalised")
    for name in REFERENCE + (XDR_REFERENCE if xdr else ()):
        p.create_reference(f"tables/{name}.sql", name)
    # Global reference data, the same in both modes (not from the replay input): built by `make setup`.
    if not p.settings.paths.plmn.exists():
        raise FileNotFoundError(f"PLMN table {p.settings.paths.plmn} not found; run `make setup`")
    p.create_reference("tables/plmn.sql", "plmn", path=p.settings.paths.plmn)
    p.create_sink("tables/triggers.sql", "triggers", fmt="raw")
    p.create_sink("tables/dlq.sql", "dlq")
    params = parameters(p.settings)
    p.execute("shared/signaling_on_time.sql")
    p.execute("triggers/late.sql")
    p.execute("triggers/located.sql", **params)
    if xdr:
        p.execute("shared/xdr_on_time.sql")
        p.execute("triggers/xdr_late.sql")
        p.execute("triggers/xdr_usage.sql", **params)
    for kind in kinds:
        p.execute(f"triggers/kinds/{kind}.sql", **params)
        p.execute("triggers/emit.sql", kind=kind)
