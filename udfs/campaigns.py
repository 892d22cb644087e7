"""Campaigns as data: validate a definition, then evaluate its trigger filter, audience and message.

A campaign is a JSON object (schemas/campaigns.schema.json), usually written in YAML. :func:`parse_campaign`
checks it against the schema *and* against what the decision job can evaluate (known fields, operators that
fit the field's type, values in the field's domain, template placeholders, start before end) and raises
:class:`CampaignError` naming the field. ``touchpoint campaigns publish`` calls it before anything reaches
the topic; the decision job calls it again on every record it reads, so a definition that bypassed the CLI
is dropped (to the DLQ) instead of breaking the job.

Pure Python (no Flink), unit-tested directly.
"""

from __future__ import annotations

import json
import math
import string
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from udfs import trigger_kinds


def _schemas_dir() -> Path:
    """The JSON Schemas definitions are checked against: the repository's schemas/ in a source checkout, the copy
    an installed wheel carries in touchpoint/resources/ (the rules import nothing of touchpoint, so this is the
    one lookup outside touchpoint.resources; a test holds the two equal)."""
    root = Path(__file__).resolve().parent.parent
    installed = root / "touchpoint" / "resources" / "schemas"
    return installed if installed.is_dir() else root / "schemas"


SCHEMAS_DIR = _schemas_dir()

#: Behaviour horizons in hours: a dynamic field is ``<metric>_<h>h``, e.g. ``data_mb_24h``.
HORIZONS = (1, 12, 24, 48)
#: Metrics of the rolled-up behaviour (udfs/behaviour.py computes them).
BEHAVIOUR_METRICS = (
    "calls_mo",
    "calls_mt",
    "calls",
    "call_minutes",
    "sms",
    "data_mb",
    "data_mb_up",
    "data_mb_down",
    "g3_data_mb",
    "g3_data_share",
    "hotline_dials",
    "cell_hours",
    "distinct_regions",
    "roaming_hours",
    "active_hours",
)

# Field types decide the operators a condition may use.
_OPS = {
    "str": {"eq", "ne", "in", "not_in"},
    "num": {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in"},
    "bool": {"eq", "ne"},
    "list": {"contains", "contains_any", "not_contains"},
}


@cache
def _reference_enum(name: str, column: str) -> tuple[str, ...] | None:
    props = json.loads((SCHEMAS_DIR / "reference" / f"{name}.schema.json").read_text())["properties"]
    return tuple(props[column]["enum"]) if "enum" in props[column] else None


@cache
def static_fields() -> dict[str, tuple[str, tuple | None]]:
    """Static audience fields: name -> (type, allowed values or None). Profile, handset snapshot and tags."""
    from udfs.tags import TAGS

    return {
        "brand": ("str", _reference_enum("profiles", "brand")),
        "plan": ("str", None),
        "arpu_band": ("str", _reference_enum("profiles", "arpu_band")),
        "age_band": ("str", _reference_enum("profiles", "age_band")),
        "data_quota_mb": ("num", None),
        "products": ("list", None),
        "g3_subscriber": ("bool", None),
        "handset_brand": ("str", None),
        "handset_model": ("str", None),
        "handset_tier": ("str", _reference_enum("handsets", "tier")),
        "g3_capable": ("bool", None),
        "tags": ("list", tuple(TAGS)),
    }


def dynamic_fields() -> dict[str, tuple[str, None]]:
    return {f"{m}_{h}h": ("num", None) for m in BEHAVIOUR_METRICS for h in HORIZONS}


#: Placeholders every message may use, besides the trigger's context fields.
MESSAGE_FIELDS = (
    "brand",
    "plan",
    "handset_brand",
    "handset_model",
    "offer_id",
    "campaign_name",
    "msisdn_tail",
    "expires_local",
    "region_name",
)


class DefinitionError(ValueError):
    """A definition (campaign, trial journey) is invalid; ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class CampaignError(DefinitionError):
    """A campaign definition the decision job cannot evaluate."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, actual: Any) -> bool:
        """Whether the subscriber's value satisfies the condition; an unknown (None) value never does."""
        op, v = self.op, self.value
        if actual is None:
            return False
        if op == "contains":
            return v in actual
        if op == "contains_any":
            return any(x in actual for x in _as_list(v))
        if op == "not_contains":
            return not any(x in actual for x in _as_list(v))
        if op == "in":
            return actual in v
        if op == "not_in":
            return actual not in v
        if op == "eq":
            return actual == v
        if op == "ne":
            return actual != v
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False
        if op == "gt":
            return actual > v
        if op == "gte":
            return actual >= v
        if op == "lt":
            return actual < v
        return actual <= v


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


@dataclass(frozen=True)
class Variant:
    """One version of a campaign's offer (docs/variants.md); what its definition leaves out is the campaign's."""

    id: str
    offer_id: str
    product_id: str
    message: str
    channel: str


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    status: str
    start_ms: int
    end_ms: int
    kind: str
    params: tuple[Condition, ...]
    static: tuple[Condition, ...]
    dynamic: tuple[Condition, ...]
    offer_id: str
    message: str
    #: the product whose order converts a lead (docs/effect.md)
    product_id: str
    channels: tuple[str, ...]
    priority: int
    cooldown_hours: float
    daily_budget: int | None
    control_percent: float
    #: the attribution window; None: decisions.attribution_days
    attribution_days: float | None = None
    #: versions of the offer, one per treatment lead; none: the offer itself
    variants: tuple[Variant, ...] = ()
    #: how a treatment lead's variant is chosen: ``even`` or ``adaptive`` (udfs/variants.py)
    selection: str = "even"

    def active_at(self, ts: int) -> bool:
        return self.status == "active" and self.start_ms <= ts < self.end_ms

    def trigger_matches(self, kind: str, context: dict) -> bool:
        return kind == self.kind and all(c.holds(context.get(c.field)) for c in self.params)

    def render(self, values: dict[str, Any], template: str | None = None) -> str:
        """The message (or a variant's ``template``) with placeholders filled; an unknown or null value renders as
        an empty string."""
        return (template or self.message).format_map(_Blank({k: v for k, v in values.items() if v is not None}))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


# --- validation -------------------------------------------------------------------------------------


@cache
def _validator():
    import jsonschema

    schema = json.loads((SCHEMAS_DIR / "campaigns.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _path(parts, root: str = "(campaign)") -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or root


def schema_problem(validator, obj: Any, root: str) -> tuple[str, str] | None:
    """The first schema error of a definition as (field, message) — a missing field, a field nobody knows, a bad
    value — or None; ``root`` names the whole object. Campaigns and journeys (udfs/journeys.py) share it."""
    problems = schema_problems(validator, obj, root)
    return problems[0] if problems else None


def schema_problems(validator, obj: Any, root: str) -> list[tuple[str, str]]:
    """Every schema error of a definition as (field, message), shallowest field first (the first is the one
    :func:`schema_problem` reports): what a form shows beside each field at once."""
    errors = sorted(validator.iter_errors(obj), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    return list(dict.fromkeys(p for e in errors for p in _schema_errors(e, root)))  # once each, in order


def _schema_errors(e, root: str) -> list[tuple[str, str]]:
    if e.validator == "required":
        missing = [f for f in e.validator_value if f not in e.instance]
        return [(_path([*e.absolute_path, f], root), "is required") for f in missing]
    if e.validator == "additionalProperties":
        extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
        return [(_path([*e.absolute_path, f], root), "is not a known field") for f in extra]
    return [(_path(e.absolute_path, root), e.message)]


def non_finite(obj: Any, parts: tuple = ()) -> str | None:
    """The first field holding NaN or an infinity (YAML's ``.nan``, ``.inf``): a number to the schema, but not
    JSON, so no job could read the record back."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return _path(parts)
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        if found := non_finite(v, (*parts, k)):
            return found
    return None


def _timestamp(field: str, text: str) -> int:
    example = "e.g. 2026-11-01T00:00:00+08:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise CampaignError(field, f"not an ISO 8601 date-time: {text!r}, {example}") from None
    if dt.tzinfo is None or len(text) <= 10:  # a bare date has no time
        raise CampaignError(field, f"needs a date, a time and a UTC offset, {example}")
    return int(dt.timestamp() * 1000)


def _condition(field: str, c: dict, catalog: dict[str, tuple[str, tuple | None]]) -> Condition:
    name, op, value = c["field"], c["op"], c["value"]
    if name not in catalog:
        known = ", ".join(sorted(catalog)) if len(catalog) < 30 else "<metric>_<1|12|24|48>h, see docs/decisions.md"
        raise CampaignError(f"{field}.field", f"unknown field {name!r}; known: {known}")
    typ, domain = catalog[name]
    if op not in _OPS[typ]:
        raise CampaignError(
            f"{field}.op", f"{op!r} does not apply to {typ} field {name!r}; use one of {', '.join(sorted(_OPS[typ]))}"
        )
    _check_value(f"{field}.value", typ, op, value, domain)
    return Condition(name, op, value)


def _check_value(field: str, typ: str, op: str, value: Any, domain: tuple | None) -> None:
    many = op in ("in", "not_in") or (op in ("contains_any", "not_contains") and isinstance(value, list))
    items = value if many else [value]
    if many and (not isinstance(value, list) or not value):
        raise CampaignError(field, f"{op!r} needs a non-empty list")
    for v in items:
        ok = {
            "str": isinstance(v, str),
            "list": isinstance(v, str),
            "bool": isinstance(v, bool),
            "num": isinstance(v, (int, float)) and not isinstance(v, bool),
        }[typ]
        if not ok:
            want = {"str": "a string", "list": "a string", "bool": "true or false", "num": "a number"}[typ]
            raise CampaignError(field, f"{v!r} is not {want}")
        if domain is not None and v not in domain:
            raise CampaignError(field, f"{v!r} is not one of {', '.join(domain)}")


def _params(kind: str, params: dict) -> tuple[Condition, ...]:
    out = []
    for name, spec in params.items():
        field = f"trigger.params.{name}"
        context = trigger_kinds.spec(kind).context
        if name not in context:
            raise CampaignError(field, f"{kind} triggers have no context field {name!r}; known: {', '.join(context)}")
        if isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in _OPS["num"]:
                raise CampaignError(field, "an operator object holds one of eq, ne, gt, gte, lt, lte, in, not_in")
            op, value = next(iter(spec.items()))
        elif isinstance(spec, list):
            op, value = "in", spec
        else:
            op, value = "eq", spec
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            raise CampaignError(field, f"{op!r} needs a non-empty list")
        if op in ("gt", "gte", "lt", "lte") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise CampaignError(field, f"{op!r} needs a number, not {value!r}")
        out.append(Condition(name, op, value))
    return tuple(out)


def _message(kind: str, template: str, field: str = "offer.message") -> None:
    allowed = set(MESSAGE_FIELDS) | set(trigger_kinds.spec(kind).context)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise CampaignError(field, f"bad template: {e}") from None
    for _, name, spec, conv in parts:
        if name is None:
            continue
        if name not in allowed or spec or conv:
            raise CampaignError(
                field,
                f"unknown placeholder {{{name}}}; use {{name}} with a name from {', '.join(sorted(allowed))}",
            )


def parse_campaign(obj: Any) -> Campaign:
    """Validate one campaign definition; raises :class:`CampaignError` naming the first bad field."""
    problem = schema_problem(_validator(), obj, "(campaign)")
    if problem:
        field, message = problem
        if field == "trigger.kind" and message != "is required":
            kind = obj["trigger"]["kind"]
            message = f"unknown trigger kind {kind!r}; known: {', '.join(trigger_kinds.describe_names())}"
        raise CampaignError(field, message)
    if bad := non_finite(obj):
        raise CampaignError(bad, "must be a finite number")
    start, end = _timestamp("start", obj["start"]), _timestamp("end", obj["end"])
    if end <= start:
        raise CampaignError("end", "must be after start")
    if len(set(obj["channels"])) != len(obj["channels"]):
        raise CampaignError("channels", "lists a channel twice")
    kind = obj["trigger"]["kind"]
    audience = obj.get("audience", {})
    static = tuple(
        _condition(f"audience.static[{i}]", c, static_fields()) for i, c in enumerate(audience.get("static", []))
    )
    dynamic = tuple(
        _condition(f"audience.dynamic[{i}]", c, dynamic_fields()) for i, c in enumerate(audience.get("dynamic", []))
    )
    _message(kind, obj["offer"]["message"])
    variants = _variants(obj, kind)
    if obj.get("selection") == "adaptive" and not variants:
        raise CampaignError("selection", "adaptive selection chooses among variants: list 2 to 4 under variants")
    return Campaign(
        id=obj["id"],
        name=obj["name"],
        status=obj["status"],
        start_ms=start,
        end_ms=end,
        kind=kind,
        params=_params(kind, obj["trigger"].get("params", {})),
        static=static,
        dynamic=dynamic,
        offer_id=obj["offer"]["id"],
        message=obj["offer"]["message"],
        product_id=obj["offer"].get("product", obj["offer"]["id"]),
        channels=tuple(obj["channels"]),
        priority=obj["priority"],
        cooldown_hours=float(obj.get("cooldown_hours", 0)),
        daily_budget=obj.get("daily_budget"),
        control_percent=float(obj.get("control_percent", 0)),
        attribution_days=obj.get("attribution_days"),
        variants=variants,
        selection=obj.get("selection", "even"),
    )


def _variants(obj: dict[str, Any], kind: str) -> tuple[Variant, ...]:
    """The campaign's variants, each completed from the campaign's offer and first channel."""
    offer, channels = obj["offer"], obj["channels"]
    out: list[Variant] = []
    for i, v in enumerate(obj.get("variants", [])):
        field = f"variants[{i}]"
        if any(v["id"] == x.id for x in out):
            raise CampaignError(f"{field}.id", f"duplicate variant id {v['id']!r}")
        channel = v.get("channel", channels[0])
        if channel not in channels:
            raise CampaignError(
                f"{field}.channel", f"{channel!r} is not one of the campaign's channels: {', '.join(channels)}"
            )
        if "message" in v:
            _message(kind, v["message"], f"{field}.message")
        offer_id = v.get("offer", offer["id"])
        product = v.get("product") or (v["offer"] if "offer" in v else offer.get("product", offer["id"]))
        out.append(Variant(v["id"], offer_id, product, v.get("message", offer["message"]), channel))
    return tuple(out)
