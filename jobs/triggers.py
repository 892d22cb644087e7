"""triggers: the marketing moments of docs/triggers.md, detected in Flink SQL from signaling, xDRs and orders.

Which kinds run is ``triggers.kinds``; what each kind needs (its source stream, its recipe) comes from the trigger
kind catalogue (udfs/trigger_kinds.py). The quota kinds are one recipe rendered once per threshold.
"""

from jobs import contribution_parameters
from jobs.ingest import event_time, on_time, read_raw
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import sql_list
from udfs import trigger_kinds
from udfs.units import HOUR_MS, MB, MINUTE_MS

DESCRIPTION = "patterns over signaling, xDRs and orders (event time per raw partition) -> triggers (late events -> dlq)"
INPUTS = ("signaling", "xdr", "orders")
OUTPUTS = ("triggers", "dlq")
#: Reference tables of the signaling kinds, then of the xDR kinds (read only when one of them is on).
SIGNALING_REFERENCE = ("cells", "regions", "handsets", "number_ranges")
XDR_REFERENCE = ("profiles",)
#: Orders are checked against the product catalogue (sql/triggers/orders_unknown_product.sql).
ORDERS_REFERENCE = ("products",)
REFERENCE = SIGNALING_REFERENCE + XDR_REFERENCE + ORDERS_REFERENCE


def uses_xdr(kind: str) -> bool:
    """Whether a kind reads xDRs: those detected from them (quota_<n>mb, abnormal_usage) and zero_usage, whose
    orders are cancelled by them."""
    return trigger_kinds.spec(kind).source in ("xdr", "orders")


def uses_orders(kind: str) -> bool:
    return trigger_kinds.spec(kind).source == "orders"


def parameters(settings: Settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/triggers/, from the triggers settings (the directory number, hotlines and
    home PLMNs as the members that count contributions get them: jobs.contribution_parameters)."""
    t = settings.triggers
    return contribution_parameters(settings) | {
        "min_outside_ms": t.region_entry_min_outside_ms,
        "dwell_minutes": t.dwell_minutes,
        "dwell_ms": t.dwell_ms,
        "home_province": sql_list([settings.network.home_province]),
        "roam_in_gap_ms": t.roam_in_gap_ms,
        "power_on_min_off_ms": t.power_on_min_off_ms,
        "handset_store_days": t.handset_store_days,
        "handset_store_visits": t.handset_store_visits,
        "timezone": t.timezone,
        "billing_month": t.billing_month,
        "abnormal_usage_bytes": t.abnormal_usage_bytes,
        "zero_usage_ms": t.zero_usage_window_ms,
        "zero_usage_interval": _day_to_second(t.zero_usage_window_ms),
        # units (udfs/units.py), so that no recipe writes a number of its own
        "mb": MB,
        "hour_ms": HOUR_MS,
        "minute_ms": MINUTE_MS,
    }


def _day_to_second(ms: int) -> str:
    """A duration as a SQL ``DAY TO SECOND`` interval literal: 90_061_001 -> ``'1 01:01:01.001'``."""
    days, ms = divmod(ms, 86_400_000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    return f"{days} {hours:02d}:{minutes:02d}:{ms // 1000:02d}.{ms % 1000:03d}"


def recipe(kind: str) -> tuple[str, dict[str, object]]:
    """The recipe file of ``kind`` and the placeholders it adds (a quota kind: its threshold)."""
    threshold = trigger_kinds.quota_threshold(kind)
    extra = {"threshold_mb": threshold, "threshold_bytes": threshold * MB} if threshold is not None else {}
    return f"triggers/kinds/{trigger_kinds.spec(kind).name}.sql", {"kind": kind, **extra}


def build(p: Pipeline) -> None:
    kinds = p.settings.triggers.kinds
    xdr = any(uses_xdr(k) for k in kinds)
    orders = any(uses_orders(k) for k in kinds)
    read_raw(p, "signaling", *(("xdr",) if xdr else ()), *(("orders",) if orders else ()))
    for name in SIGNALING_REFERENCE + (XDR_REFERENCE if xdr else ()) + (ORDERS_REFERENCE if orders else ()):
        p.create_reference(f"tables/{name}.sql", name)
    # Global reference data, the same in both modes (not from the replay input): built by `make setup`.
    if not p.settings.paths.plmn.exists():
        raise FileNotFoundError(f"PLMN table {p.settings.paths.plmn} not found; run `make setup`")
    p.create_reference("tables/plmn.sql", "plmn", path=p.settings.paths.plmn)
    p.create_sink("tables/triggers.sql", "triggers", fmt="raw")
    p.create_sink("tables/dlq.sql", "dlq")
    # a replay's end: zero_usage drops what its flush at the end of input would fire past the data
    params = parameters(p.settings) | {"data_end": p.data_end({k: event_time(p.settings, k) for k in INPUTS})}
    on_time(p, "signaling")
    p.execute("triggers/late.sql")
    p.execute("triggers/located.sql", **params)
    p.execute("triggers/roaming.sql", **params)
    if xdr:
        on_time(p, "xdr")
        p.execute("triggers/xdr_late.sql")
        p.execute("triggers/xdr_usage.sql", **params)
    if orders:
        on_time(p, "orders")
        p.execute("triggers/orders_late.sql")
        p.execute("triggers/orders_unknown_product.sql")
    for kind in kinds:
        path, extra = recipe(kind)
        p.execute(path, **params, **extra)
        p.execute("triggers/emit.sql", kind=kind)
