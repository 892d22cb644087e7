"""Trial journeys (ARC: acquire -> retain -> convert) as data, and the rules that run them (docs/journeys.md).

A journey follows one free trial: an order with ``action = trial_start`` of the journey's ``trial_product``
starts it for that subscriber. From the trial's start it schedules its steps — ``welcome`` (day 0, the usage
manual), ``usage_nudge`` (on the check day, only if the trial's usage of the service is still below the
threshold), ``feedback`` (the rating invitation) and ``reminder`` (some days before the trial ends) — and at the
trial's end records why it did not convert. A ``subscribe`` order of the journey's ``product`` ends it as
converted; an ``unsubscribe`` of the trial product ends it as declined (the subscriber opted out).

Steps are not leads: each comes out as a ``journey_step`` trigger, which the decision job turns into a lead
through the same contact policy as every campaign (consent, do-not-disturb, quiet hours, the contact cap,
the global holdout) with :func:`step_campaign`. The end comes out as a ``journey_end`` record.

:class:`Trial` holds one subscriber's trial of one journey and is the only place the rules live: the journeys
job keeps one per subscriber × journey in keyed state and feeds it in event-time order, and :func:`run`, the
reference, feeds it the same inputs from plain lists. Usage counts in whole clock hours (UTC), as the job's
hourly windows do: the bytes of the service's xDRs in every hour from the hour the trial starts whose end is
not after the moment that asks.

Pure Python (no Flink), unit-tested directly.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from udfs.campaigns import SCHEMAS_DIR, Campaign, DefinitionError, non_finite, schema_problem
from udfs.contact_policy import Policy, subscriber_block
from udfs.units import DAY_MS, HOUR_MS, MB

_SCHEMA = SCHEMAS_DIR / "journeys.schema.json"

#: The steps a journey may configure, in the order of a trial.
STEPS = ("welcome", "usage_nudge", "feedback", "reminder")
#: Why a trial did not convert (docs/journeys.md): an opt-out is declined at once; at the trial's end the rules
#: test not_contactable, no_usage, low_usage, and a trial used enough and let lapse is declined too.
REASONS = ("declined", "not_contactable", "no_usage", "low_usage")
#: The trigger kind of a step (the decision job's input) and of a journey's end.
STEP_KIND = "journey_step"
END_KIND = "journey_end"
#: Placeholders a step's message may use: the step's context, filled in by the decision job.
MESSAGE_FIELDS = ("journey_name", "product_id", "trial_product", "trial_end_local", "usage_mb", "msisdn_tail")
#: Ranks of a subscriber's inputs at one moment: usage first, then orders; the steps due come after both.
RANK = {"usage": 0, "order": 1}


class JourneyError(DefinitionError):
    """A journey definition the journeys job cannot run; ``field`` names the offending field."""


@dataclass(frozen=True)
class Step:
    name: str
    #: when, after the trial's start (ms)
    offset_ms: int
    channels: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Journey:
    id: str
    name: str
    status: str
    trial_product: str
    product: str
    trial_ms: int
    app: str
    min_bytes: int
    steps: tuple[Step, ...]

    def definition(self) -> dict[str, Any]:
        """What a trial keeps of its journey (the version in force when it started), as JSON types."""
        return {**asdict(self), "steps": [{**asdict(s), "channels": list(s.channels)} for s in self.steps]}


# --- validation -------------------------------------------------------------------------------------


@cache
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(_SCHEMA.read_text()))


#: step -> the field that says when it is due (none: at the trial's start)
_WHEN = {"welcome": None, "usage_nudge": "day", "feedback": "day", "reminder": "days_before_end"}


def _days(field: str, value: float, trial_days: float) -> int:
    if not 0 < value < trial_days:
        raise JourneyError(field, f"must fall strictly inside the trial (0 < {value:g} < {trial_days:g} days)")
    return round(value * DAY_MS)


def _message(field: str, template: str) -> None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        raise JourneyError(field, f"bad template: {e}") from None
    for _, name, spec, conv in parts:
        if name is not None and (name not in MESSAGE_FIELDS or spec or conv):
            raise JourneyError(field, f"unknown placeholder {{{name}}}; use one of {', '.join(MESSAGE_FIELDS)}")


def parse_journey(obj: Any) -> Journey:
    """Validate one journey definition; raises :class:`JourneyError` naming the first bad field."""
    problem = schema_problem(_validator(), obj, "(journey)")
    if problem:
        field, message = problem
        if field.count(".") == 1 and field.startswith("steps.") and message == "is not a known field":
            message = f"unknown step {field[6:]!r}; steps: {', '.join(STEPS)}"
        raise JourneyError(field, message)
    if bad := non_finite(obj):
        raise JourneyError(bad, "must be a finite number")
    if obj["product"] == obj["trial_product"]:
        raise JourneyError("product", "must differ from trial_product: ordering the product ends the trial")
    trial_days = obj["trial_days"]
    steps = []
    for name, spec in obj["steps"].items():
        f = f"steps.{name}"
        when = _WHEN[name]
        for key in ("day", "days_before_end"):
            if key in spec and key != when:
                raise JourneyError(f"{f}.{key}", f"does not apply to the {name} step")
        if when and when not in spec:
            raise JourneyError(f"{f}.{when}", "is required")
        offset = _days(f"{f}.{when}", spec[when], trial_days) if when else 0
        if when == "days_before_end":
            offset = round(trial_days * DAY_MS) - offset
        if len(set(spec["channels"])) != len(spec["channels"]):
            raise JourneyError(f"{f}.channels", "lists a channel twice")
        _message(f"{f}.message", spec["message"])
        steps.append(Step(name, offset, tuple(spec["channels"]), spec["message"]))
    return Journey(
        id=obj["id"],
        name=obj["name"],
        status=obj.get("status", "active"),
        trial_product=obj["trial_product"],
        product=obj["product"],
        trial_ms=round(trial_days * DAY_MS),
        app=obj["usage"]["app"],
        min_bytes=round(obj["usage"]["min_mb"] * MB),
        steps=tuple(sorted(steps, key=lambda s: (s.offset_ms, STEPS.index(s.name)))),
    )


def scaled(obj: dict[str, Any], factor: float) -> dict[str, Any]:
    """The definition with every duration multiplied by ``factor`` (a demo compresses a month into hours)."""
    out = json.loads(json.dumps(obj))
    out["trial_days"] = obj["trial_days"] * factor
    for spec in out["steps"].values():
        for key in ("day", "days_before_end"):
            if key in spec:
                spec[key] = spec[key] * factor
    return out


# --- the rules -----------------------------------------------------------------------------------------


def _id(*parts: str) -> str:
    return "j-" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:20]


def contactable(profile: Mapping[str, Any] | None) -> bool:
    """Whether the contact policy lets marketing reach the subscriber at all (the decision job's own test)."""
    return subscriber_block(dict(profile) if profile else None, STEP_KIND, Policy()) is None


@dataclass
class Trial:
    """One subscriber's trial of one journey: what the rules need, small enough for keyed state."""

    msisdn: str
    order_id: str
    start: int
    journey: dict[str, Any]
    contactable: bool
    usage_bytes: int = 0
    #: steps already due (taken or skipped)
    done: list[str] = field(default_factory=list)
    #: set once the trial converted or was declined
    ended: bool = False

    @property
    def end(self) -> int:
        return self.start + self.journey["trial_ms"]

    def next_due(self) -> int | None:
        """The moment of the next scheduled step or the end; None once ended."""
        if self.ended:
            return None
        left = [self.start + s["offset_ms"] for s in self.journey["steps"] if s["name"] not in self.done]
        return min(left, default=self.end)

    def take_usage(self, app: str, hour_start: int, nbytes: int) -> None:
        if not self.ended and app == self.journey["app"] and self.start // HOUR_MS * HOUR_MS <= hour_start < self.end:
            self.usage_bytes += nbytes

    def take_order(self, order: Mapping[str, Any]) -> list[dict[str, Any]]:
        """A subscribe of the product converts; an unsubscribe of the trial product declines (opt-out)."""
        j, ts = self.journey, order["ts"]
        if self.ended or not self.start < ts <= self.end:
            return []
        if order["action"] == "subscribe" and order["product_id"] == j["product"]:
            return [self._end(ts, "converted", None)]
        if order["action"] == "unsubscribe" and order["product_id"] == j["trial_product"]:
            return [self._end(ts, "not_converted", "declined")]
        return []

    def take_due(self, now: int) -> list[dict[str, Any]]:
        """Every step due by ``now`` (a usage nudge only while usage is below the threshold), then the end."""
        out = []
        for s in self.journey["steps"]:
            at = self.start + s["offset_ms"]
            if self.ended or s["name"] in self.done or at > now:
                continue
            self.done.append(s["name"])
            if s["name"] != "usage_nudge" or self.usage_bytes < self.journey["min_bytes"]:
                out.append(self._record(STEP_KIND, at, s["name"], {"channels": s["channels"], "message": s["message"]}))
        if not self.ended and self.end <= now:
            out.append(self._end(self.end, "not_converted", self.reason()))
        return out

    def reason(self) -> str:
        """Why a trial that reached its end did not convert (REASONS, in order; a used trial was declined)."""
        if not self.contactable:
            return "not_contactable"
        if self.usage_bytes == 0:
            return "no_usage"
        if self.usage_bytes < self.journey["min_bytes"]:
            return "low_usage"
        return "declined"

    def _end(self, ts: int, result: str, reason: str | None) -> dict[str, Any]:
        self.ended = True
        return self._record(END_KIND, ts, "end", {"result": result, "reason": reason})

    def _record(self, kind: str, ts: int, step: str, extra: dict[str, Any]) -> dict[str, Any]:
        j = self.journey
        context = {
            "journey_id": j["id"],
            "journey_name": j["name"],
            "step": step,
            "order_id": self.order_id,
            "trial_product": j["trial_product"],
            "product_id": j["product"],
            "trial_start": self.start,
            "trial_end": self.end,
            "usage_mb": round(self.usage_bytes / MB, 3),
            **extra,
        }
        return {
            "trigger_id": _id(self.msisdn, j["id"], self.order_id, step),
            "msisdn": self.msisdn,
            "kind": kind,
            "ts": ts,
            "context": context,
        }


def step_campaign(context: Mapping[str, Any]) -> Campaign:
    """The campaign a journey step is decided as: the journey's own, for this one trigger (no audience, no
    cooldown, no budget, no control group of its own; the global holdout and the contact policy apply)."""
    return Campaign(
        id=context["journey_id"],
        name=context["journey_name"],
        status="active",
        start_ms=0,
        end_ms=2**63 - 1,
        kind=STEP_KIND,
        params=(),
        static=(),
        dynamic=(),
        offer_id=f"{context['journey_id']}.{context['step']}",
        message=context["message"],
        product_id=context["product_id"],
        channels=tuple(context["channels"]),
        priority=0,
        cooldown_hours=0.0,
        daily_budget=None,
        control_percent=0.0,
    )


def start(order: Mapping[str, Any], journey: Journey, profile: Mapping[str, Any] | None) -> Trial | None:
    """The trial an order starts, if it is a trial start of the journey's trial product and the journey runs."""
    if order["action"] != "trial_start" or order["product_id"] != journey.trial_product or journey.status != "active":
        return None
    return Trial(order["msisdn"], order["order_id"], order["ts"], journey.definition(), contactable(profile))


def run(
    journeys: Iterable[Journey],
    orders: Iterable[Mapping[str, Any]],
    usage: Iterable[tuple[str, str, int, int]],
    profiles: Mapping[str, Mapping[str, Any]],
    data_end: int | None = None,
) -> list[dict[str, Any]]:
    """The reference: every journey's steps and ends from plain inputs, as a replay of the journeys job emits them
    (without ``detected_at``). ``orders``: valid orders, duplicates (same ``order_id``) taken once; ``usage``:
    (msisdn, app, hour_start, bytes) per clock hour with any usage; ``data_end``: a bounded replay emits nothing
    after it. At one moment a subscriber's usage is taken first, then orders (by id), then the steps due."""
    by_product = {j.trial_product: j for j in journeys}
    inputs: dict[int, list[tuple[int, str, Any]]] = {}
    for o in {o["order_id"]: o for o in orders}.values():
        inputs.setdefault(o["ts"], []).append((RANK["order"], o["order_id"], o))
    for m, a, h, b in usage:
        inputs.setdefault(h + HOUR_MS, []).append((RANK["usage"], f"{m}|{a}", (m, a, h, b)))
    trials: dict[tuple[str, str], Trial] = {}
    out: list[dict[str, Any]] = []

    def advance(now: int) -> None:
        while due := [t for t in trials.values() if (d := t.next_due()) is not None and d <= now]:
            at = min(t.next_due() for t in due)
            for t in due:
                if t.next_due() == at:
                    out.extend(t.take_due(at))

    for ts in sorted(inputs):
        advance(ts - 1)
        for rank, _, item in sorted(inputs[ts], key=lambda x: x[:2]):
            if rank == RANK["usage"]:
                for (m, _), t in trials.items():
                    if m == item[0]:
                        t.take_usage(*item[1:])
                continue
            for (m, _), t in trials.items():
                if m == item["msisdn"]:
                    out.extend(t.take_order(item))
            j = by_product.get(item["product_id"])
            if j is None:
                continue
            key = (item["msisdn"], j.id)
            if (key not in trials or trials[key].ended) and (trial := start(item, j, profiles.get(item["msisdn"]))):
                trials[key] = trial
        advance(ts)
    advance(data_end if data_end is not None else max((t.end for t in trials.values()), default=0))
    return [e for e in out if data_end is None or e["ts"] <= data_end]


def run_records(
    journeys: Iterable[Journey],
    orders: Iterable[Mapping[str, Any]],
    xdrs: Iterable[Mapping[str, Any]],
    profiles: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """:func:`run` over a bounded replay's valid records as they are (orders-normalised, xdr-normalised):
    duplicates once, each subscriber's usage summed per app and clock hour, the data's end their last event time."""
    orders = list(orders)
    unique = {x["event_id"]: x for x in xdrs}.values()
    usage: dict[tuple[str, str, int], int] = {}
    for x in unique:
        if x.get("app"):
            key = (x["msisdn"], x["app"], x["ts"] // HOUR_MS * HOUR_MS)
            usage[key] = usage.get(key, 0) + x["bytes_up"] + x["bytes_down"]
    data_end = max((r["ts"] for r in [*orders, *unique]), default=0)
    return run(journeys, orders, [(*k, b) for k, b in usage.items()], profiles, data_end)
