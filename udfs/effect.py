"""Effect tracking rules: which order converts which lead, what became of each lead, and a campaign's uplift.

The readable specification of effect tracking (docs/effect.md), in plain Python with no Flink: the demo applies
it to the simulated outbound answers, and the effect job is to be held equal to it the way the triggers job is
held to the ground truth.

- **Attribution.** An order that names one of the subscriber's leads (``lead_id``) within that lead's window
  converts it, whatever the product. BOSS orders usually name none: then a ``subscribe`` order converts the
  subscriber's lead for the same product (or one of its family) whose window (``deliver_at`` to ``until``)
  includes it; of
  several, the last one (last touch). An order converts at most one lead; a lead is converted by its first order.
  An order naming a lead it cannot convert (unknown, someone else's, already converted, outside its window)
  converts nothing.
- **Lead state.** ``converted`` once an order is attributed to it; else ``delivered`` (treatment, delivered) until
  its window ends, then ``expired``; a control lead is never delivered: ``pending`` until its window ends (so is
  a treatment lead not reported delivered).
- **Uplift.** Per group of leads (campaign, trigger kind, day): the conversion rate of treatment leads (every
  treatment lead, delivered or not: intention to treat) minus that of control leads, with a 95 % confidence
  interval for the difference of two proportions (normal approximation); below ``min_sample`` leads in either
  arm there is not enough data and no estimate.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from udfs.contact_policy import local_day

#: z of a two-sided 95 % interval
Z95 = 1.959963984540054

State = Literal["converted", "delivered", "expired", "pending"]

#: The fields of each input the rules read, with their JSON types (as schemas/leads, outcomes and orders type
#: them; a test holds them equal): a record without one of them, or with one of another type, is a dead letter.
NEEDS: dict[str, dict[str, type]] = {
    "lead": {
        "lead_id": str,
        "msisdn": str,
        "campaign_id": str,
        "product_id": str,
        "trigger_kind": str,
        "trigger_ts": int,
        "deliver_at": int,
        "attribution_until": int,
        "control": bool,
    },
    "delivered": {"lead_id": str, "msisdn": str, "ts": int},
    "order": {"order_id": str, "msisdn": str, "product_id": str, "action": str, "ts": int},
}
#: Fields the rules read when they are there (a lead of a campaign with variants, of the global holdout).
MAY_HAVE: dict[str, dict[str, type]] = {
    "lead": {"holdout": bool, "variant_id": str, "variant_ids": list},
    "delivered": {},
    "order": {"lead_id": str},
}


def defect(kind: str, record: Any) -> tuple[str, str] | None:
    """Why the rules cannot take ``record`` as an input of ``kind`` (``lead``, ``delivered``, ``order``), as a
    dead-letter (reason, detail); None when they can. The first missing or null field is ``missing_field``; a
    field of another type, or a lead whose attribution window ends before its delivery, ``invalid_value``."""
    if not isinstance(record, dict):
        return "invalid_value", "(record)"
    for name, kind_of in [*NEEDS[kind].items(), *MAY_HAVE[kind].items()]:
        value = record.get(name)
        if value is None:
            if name in NEEDS[kind]:
                return "missing_field", name
            continue
        # JSON true is not a number: bool is a subclass of int in Python
        if not isinstance(value, kind_of) or (kind_of is int and isinstance(value, bool)):
            return "invalid_value", f"{name}: {kind_of.__name__} expected, got {value!r}"[:200]
        if kind_of is list and not all(isinstance(x, str) for x in value):
            return "invalid_value", f"{name}: a list of strings expected, got {value!r}"[:200]
    if kind == "lead" and record["attribution_until"] < record["deliver_at"]:
        return "invalid_value", "attribution_until: before deliver_at"
    return None


@dataclass(frozen=True)
class Lead:
    lead_id: str
    msisdn: str
    campaign_id: str
    #: the offered product
    product_id: str
    deliver_at: int
    #: the end of its attribution window (deliver_at + the campaign's window)
    until: int
    control: bool


def lead_of(record: dict[str, Any]) -> Lead:
    """The rules' view of a ``leads`` record (schemas/leads.schema.json)."""
    return Lead(
        record["lead_id"],
        record["msisdn"],
        record["campaign_id"],
        record["product_id"],
        record["deliver_at"],
        record["attribution_until"],
        bool(record["control"]),
    )


@dataclass(frozen=True)
class Order:
    order_id: str
    ts: int
    msisdn: str
    product_id: str
    action: str
    lead_id: str | None = None


def order_of(record: dict[str, Any]) -> Order:
    """The rules' view of an ``orders`` record (schemas/orders.schema.json)."""
    return Order(
        record["order_id"],
        record["ts"],
        record["msisdn"],
        record["product_id"],
        record["action"],
        record.get("lead_id"),
    )


@dataclass(frozen=True)
class LeadState:
    state: State
    delivered_at: int | None = None
    converted_at: int | None = None
    order_id: str | None = None


def claim(open_leads: Iterable[Lead], order: Order, family: Mapping[str, str]) -> Lead | None:
    """The lead ``order`` converts among the subscriber's open leads (those not converted yet), or None.
    ``family``: product id -> product family (a product missing from it is a family of its own)."""
    if order.lead_id is not None:
        named = next((x for x in open_leads if x.lead_id == order.lead_id), None)
        ok = named is not None and named.msisdn == order.msisdn and _within(named, order.ts)
        return named if ok else None
    if order.action != "subscribe":
        return None
    kin = family.get(order.product_id, order.product_id)
    touches = [
        x
        for x in open_leads
        if x.msisdn == order.msisdn and family.get(x.product_id, x.product_id) == kin and _within(x, order.ts)
    ]
    return max(touches, key=lambda x: (x.deliver_at, x.lead_id), default=None)  # the last touch


def attribute(
    leads: Iterable[Lead], orders: Iterable[Order], family: Mapping[str, str]
) -> tuple[dict[str, Order], list[Order]]:
    """(lead id -> the order that converted it, orders naming a lead they cannot convert), the orders taken in
    ts order (then by id)."""
    open_leads: dict[str, list[Lead]] = {}
    for x in leads:
        open_leads.setdefault(x.msisdn, []).append(x)
    converted: dict[str, Order] = {}
    unknown: list[Order] = []
    for o in sorted(orders, key=lambda o: (o.ts, o.order_id)):
        mine = open_leads.get(o.msisdn, [])
        won = claim(mine, o, family)
        if won is not None:
            converted[won.lead_id] = o
            mine.remove(won)
        elif o.lead_id is not None:
            unknown.append(o)
    return converted, unknown


def _within(lead: Lead, ts: int) -> bool:
    """The lead's attribution window includes both ends."""
    return lead.deliver_at <= ts <= lead.until


def lead_states(
    leads: Iterable[Lead], delivered: Mapping[str, int], converted: Mapping[str, Order], now: int
) -> dict[str, LeadState]:
    """Each lead's state at event time ``now``; ``delivered``: lead id -> when the outbound system delivered it."""
    out: dict[str, LeadState] = {}
    for x in leads:
        at = None if x.control else delivered.get(x.lead_id)
        order = converted.get(x.lead_id)
        if order is not None:
            out[x.lead_id] = LeadState("converted", at, order.ts, order.order_id)
        elif now > x.until:
            out[x.lead_id] = LeadState("expired", at)
        else:
            out[x.lead_id] = LeadState("delivered" if at is not None else "pending", at)
    return out


@dataclass(frozen=True)
class Uplift:
    treatment_leads: int
    treatment_converted: int
    control_leads: int
    control_converted: int
    #: None below the minimum sample ("not enough data")
    treatment_rate: float | None = None
    control_rate: float | None = None
    absolute: float | None = None
    #: absolute / control rate; None also when the control rate is 0
    relative: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def enough_data(self) -> bool:
        return self.absolute is not None

    def record(self) -> dict[str, Any]:
        """The counts and estimates as the ``uplift`` topic names them (schemas/uplift.schema.json)."""
        return {
            "treatment_leads": self.treatment_leads,
            "treatment_converted": self.treatment_converted,
            "control_leads": self.control_leads,
            "control_converted": self.control_converted,
            "treatment_rate": self.treatment_rate,
            "control_rate": self.control_rate,
            "uplift": self.absolute,
            "relative_uplift": self.relative,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "enough_data": self.enough_data,
        }


def uplift(
    treatment_leads: int, treatment_converted: int, control_leads: int, control_converted: int, min_sample: int
) -> Uplift:
    """Treatment minus control conversion rate with its 95 % interval (Wald, two proportions)."""
    counts = (treatment_leads, treatment_converted, control_leads, control_converted)
    if not 0 <= treatment_converted <= treatment_leads or not 0 <= control_converted <= control_leads:
        raise ValueError(f"conversions must be between 0 and the leads: {counts}")
    if min(treatment_leads, control_leads) < max(min_sample, 1):
        return Uplift(*counts)
    pt, pc = treatment_converted / treatment_leads, control_converted / control_leads
    se = math.sqrt(pt * (1 - pt) / treatment_leads + pc * (1 - pc) / control_leads)
    diff = pt - pc
    return Uplift(*counts, pt, pc, diff, diff / pc if pc else None, diff - Z95 * se, diff + Z95 * se)


def groups(lead: dict[str, Any], timezone: str) -> list[dict[str, Any]]:
    """The groups a lead counts in: its campaign, its campaign on its local day of delivery, its trigger kind,
    its variant (a control lead: every variant of its campaign, as the control of each), and the whole programme,
    whose control arm is the global holdout (a campaign's own control leads got other campaigns' offers: they are
    not in it)."""
    day = local_day(lead["deliver_at"], timezone)
    out = [
        {"scope": "campaign", "campaign_id": lead["campaign_id"]},
        {"scope": "campaign_day", "campaign_id": lead["campaign_id"], "day": day},
        {"scope": "trigger_kind", "trigger_kind": lead["trigger_kind"]},
    ]
    variants = [lead["variant_id"]] if lead.get("variant_id") else lead.get("variant_ids") or []
    out += [{"scope": "variant", "campaign_id": lead["campaign_id"], "variant_id": v} for v in variants]
    if not lead["control"] or lead.get("holdout"):
        out.append({"scope": "programme"})
    return out


def group_id(group: dict[str, Any]) -> str:
    """``scope|campaign_id|trigger_kind|day``, and ``|variant_id`` for a variant's group."""
    parts = [str(group.get(k) or "") for k in ("scope", "campaign_id", "trigger_kind", "day")]
    return "|".join(parts + ([group["variant_id"]] if group.get("variant_id") else []))


def group_counts(leads: Iterable[dict[str, Any]], converted: Container[str], timezone: str) -> dict[str, list[int]]:
    """Per group id, [treatment leads, treatment converted, control leads, control converted] of ``leads`` records,
    ``converted`` holding the converted lead ids: what the effect job's counts come to once every input is in."""
    counts: dict[str, list[int]] = {}
    for x in leads:
        arm = 2 if x["control"] else 0
        for g in groups(x, timezone):
            c = counts.setdefault(group_id(g), [0, 0, 0, 0])
            c[arm] += 1
            c[arm + 1] += x["lead_id"] in converted
    return counts


def latest(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The current record of each group among ``uplift`` topic records: the one with the largest version."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["version"] > out.get(r["uplift_id"], {"version": 0})["version"]:
            out[r["uplift_id"]] = r
    return out


#: Why the guardrail pauses a campaign (the pause record's reason and the suppressed decisions' detail).
GUARDRAIL_REASON = "uplift interval below zero"


#: The guardrail judges with a 99 % interval, wider than the 95 % the uplift reports, and only at a few looks in a
#: campaign's life (:func:`guardrail_looks`). Judging every change at 95 % would, over hundreds of changes and a
#: dozen campaigns, sooner or later pause a campaign that helps: the demo's loop did, before this.
Z_GUARDRAIL = 2.5758293035489004


def guardrail_looks(u: Uplift, min_sample: int, taken: int = 0) -> int:
    """How many looks the guardrail has taken once it sees ``u``, ``taken`` before it: one each time the campaign's
    smaller arm reaches ``min_sample``, then 2 ×, 4 ×, 8 × … that many leads."""
    smaller = min(u.treatment_leads, u.control_leads)
    while smaller >= max(min_sample, 1) * 2**taken:
        taken += 1
    return taken


def guardrail_interval(u: Uplift) -> tuple[float, float] | None:
    """The uplift's 99 % interval (None: not enough data)."""
    if u.absolute is None or u.ci_low is None or u.ci_high is None:
        return None
    half = (u.ci_high - u.ci_low) / 2 * Z_GUARDRAIL / Z95
    return u.absolute - half, u.absolute + half


def guardrail_trips(u: Uplift) -> bool:
    """The campaign's whole 99 % interval lies below zero: it is doing harm."""
    interval = guardrail_interval(u)
    return interval is not None and interval[1] < 0


@dataclass(frozen=True)
class Watch:
    """Where the guardrail stands on one campaign: the looks taken, and when the next one is to be judged (event
    time, ms; None: no look pending)."""

    taken: int = 0
    due_at: int | None = None


def guardrail(u: Uplift, ts: int, watch: Watch, min_sample: int, wait_ms: int) -> tuple[Watch, bool]:
    """The guardrail seeing a campaign's uplift ``u`` at ``ts``: (where it stands now, pause now).

    A look falls due when the smaller arm reaches its size (:func:`guardrail_looks`) and is judged ``wait_ms``
    later, on the uplift of that moment: the uplift so far counts a lead not answered yet as not converted, so
    judged at once, a burst of fresh leads would show rates near zero on both sides. It pauses at a look whose
    99 % interval lies wholly below zero."""
    due_at = watch.due_at
    if due_at is None:
        if guardrail_looks(u, min_sample, watch.taken) == watch.taken:
            return watch, False
        due_at = ts + wait_ms
    if ts < due_at:
        return Watch(watch.taken, due_at), False
    return Watch(guardrail_looks(u, min_sample, watch.taken)), guardrail_trips(u)


def pause_record(campaign_id: str, u: Uplift, version: int, ts: int) -> dict[str, Any]:
    """The ``guardrail`` topic's record of a pause (schemas/guardrail.schema.json): the uplift and the 99 % interval
    that tripped it."""
    low, high = guardrail_interval(u) or (None, None)
    return {
        "campaign_id": campaign_id,
        "state": "paused",
        "by": "guardrail",
        "reason": GUARDRAIL_REASON,
        "uplift": u.absolute,
        "ci_low": low,
        "ci_high": high,
        "uplift_version": version,
        "ts": ts,
    }
