"""triggers: the marketing moments of docs/triggers.md, detected in Flink SQL from signaling, xDRs and orders.

Which kinds run is ``triggers.kinds``; what each kind needs (its source stream, its recipe) comes from the trigger
kind catalogue (udfs/trigger_kinds.py) and the kind's module (udfs/kinds/<kind>.py: the placeholders its
recipe gets). The quota kinds are one recipe rendered once per threshold.
"""

from jobs.ingest import event_time, on_time, read_raw
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import sql_list
from udfs import trigger_kinds
from udfs.kinds.quota import threshold_placeholders
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
    """Values for the ${placeholders} every recipe of sql/triggers/ may use: the shared steps' settings (located,
    roaming, xdr_usage) and the units. A kind adds its own (:func:`recipe`)."""
    t = settings.triggers
    return {
        "min_outside_ms": t.region_entry_min_outside_ms,
        "home_plmns": sql_list(settings.network.home_plmns),
        "home_province": sql_list([settings.network.home_province]),
        "timezone": t.timezone,
        "billing_month": t.billing_month,
        # units (udfs/units.py), so that no recipe writes a number of its own
        "mb": MB,
        "hour_ms": HOUR_MS,
        "minute_ms": MINUTE_MS,
    }


def recipe(kind: str, settings: Settings) -> tuple[str, dict[str, object]]:
    """The recipe file of ``kind`` and the placeholders its unit (udfs/kinds/) adds from the settings; a quota
    kind's also name its threshold. A list is rendered as a SQL ``IN`` list."""
    unit = trigger_kinds.spec(kind)
    own = unit.placeholders(settings)
    threshold = trigger_kinds.quota_threshold(kind)
    if threshold is not None:
        own |= threshold_placeholders(kind, threshold)
    rendered = {k: sql_list(v) if isinstance(v, (list, tuple, set, frozenset)) else v for k, v in own.items()}
    return f"triggers/kinds/{unit.name}.sql", {"kind": kind} | rendered


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
        path, extra = recipe(kind, p.settings)
        p.execute(path, **params, **extra)
        p.execute("triggers/emit.sql", kind=kind)
