"""The decision job's two Python operators (PyFlink DataStream, thread mode); the rules are in ``udfs``.

1. :class:`SubscriberDecisions`, keyed by msisdn, with the campaigns, regions, handsets and what the effect job
   feeds back (variant counts, campaigns its guardrail paused) as broadcast state (so a region or handset
   published while it runs is known from then on): keeps the profile, the hourly behaviour buckets and the
   contact record (as two compact byte strings: jobs/decisions/state.py), and decides each trigger with
   :func:`udfs.decisions.decide`, a subscriber's triggers in ts order.
2. :class:`CampaignBudgets`, keyed by campaign id: the daily budget (:func:`udfs.decisions.charge_daily_budget`),
   then emits the decision record and the lead; a lead deferred by quiet hours is held until its ``deliver_at``.

Triggers wait in the shared ordered buffer (jobs/ordered.py): in a replay until the end of input, all decided in
ts order with all behaviour and campaigns loaded (exact and deterministic); streaming ``ordering.reorder_ms``
after they arrive, a subscriber's waiting triggers in ts order. A deferred lead is released at ``deliver_at``:
by the wall clock when streaming.

Rows between them are ``(campaign_id, payload JSON)``; out of the second come ``(topic, source, reason,
detail, record)`` rows that sql/decisions/emit.sql routes to the leads, decisions and dlq topics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.common.time import Duration, Time
from pyflink.datastream.functions import KeyedBroadcastProcessFunction, KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from jobs.decisions.state import as_buckets, pack_history, pack_profile, unpack_history, unpack_profile
from jobs.lines import OPERATOR_ERROR, StateLookup, all_or_dead_letter, read_line, ruled
from jobs.ordered import OrderedInputs, Ordering
from udfs.behaviour import KEEP_HOURS, compact
from udfs.campaigns import Campaign, CampaignError, parse_campaign
from udfs.contact_policy import Policy
from udfs.decisions import Reference, charge_daily_budget, decide
from udfs.units import HOUR_MS
from udfs.variants import Counts, counts_of

#: Broadcast state: one entry, "all" -> {campaign id: definition JSON}. One entry because PyFlink's
#: read-only broadcast state cannot list its keys in thread mode.
CAMPAIGNS = MapStateDescriptor("campaigns", Types.STRING(), Types.STRING())
_ALL = "all"

#: A pending trigger's processing time of arrival (streaming), kept with it until it is decided.
_ARRIVED = "_arrived"

#: Broadcast state: one entry, "all" -> {campaign id: {variant id: [leads, converted, version]}}: the effect
#: job's latest counts of each variant, which adaptive selection draws from (udfs/variants.py).
COUNTS = MapStateDescriptor("variant_counts", Types.STRING(), Types.STRING())

#: Broadcast state: one entry, "all" -> {campaign id: why the guardrail paused it}, from the guardrail topic (the
#: latest record of a campaign wins: a pause, or a resume that removes it).
PAUSED = MapStateDescriptor("guardrail", Types.STRING(), Types.STRING())

#: Reference data every subtask keeps whole, by id (one JSON row each), for the rules' lookups.
BROADCAST_REFERENCE = ("regions", "handsets")
_REFERENCE_STATE = {name: MapStateDescriptor(name, Types.STRING(), Types.STRING()) for name in BROADCAST_REFERENCE}
#: The broadcast states, in the order ``broadcast(*BROADCAST_STATE)`` declares them.
BROADCAST_STATE = (CAMPAIGNS, *_REFERENCE_STATE.values(), COUNTS, PAUSED)
#: broadcast input tag (sql/decisions/broadcast_inputs.sql) -> (reference data set, its id field)
_BROADCAST_INPUTS = {"region": ("regions", "region_id"), "handset": ("handsets", "tac")}

STAGE_TYPE = Types.ROW_NAMED(["campaign_id", "payload"], [Types.STRING(), Types.STRING()])
OUT_TYPE = Types.ROW_NAMED(["topic", "source", "reason", "detail", "record"], [Types.STRING()] * 5)


#: input tag -> (DLQ source, required fields; the last one is the event time)
_INPUTS = {
    "trigger": ("triggers", ("trigger_id", "msisdn", "kind", "ts")),
    "behaviour": ("behaviour", ("msisdn", "hour_start")),
    "profile": ("profiles", ("msisdn",)),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dlq(source: str, reason: str, detail: str, record: str) -> Row:
    """A dead letter from the first operator; the second passes it through (key "")."""
    return Row("", orjson.dumps({"dlq": [source, reason, detail[:500], record]}).decode())


def _ttl(hours: float) -> StateTtlConfig:
    # A backstop only (processing time): event-time timers prune state as rules stop needing it.
    # The background cleanups are named explicitly: PyFlink 2.3's defaults build Duration.of_days(30) through a
    # py4j gateway, which exists in a client process but not in a cluster's TaskManager, where opening the state
    # failed. The period is not passed to Java (which keeps its own default), so no gateway is needed.
    return (
        StateTtlConfig.new_builder(Time.milliseconds(int(hours * HOUR_MS)))
        .disable_cleanup_in_background()
        .cleanup_incrementally(5, False)
        .cleanup_in_rocksdb_compact_filter(1000, periodic_compaction_time=Duration(None))
        .build()
    )


class SubscriberDecisions(KeyedBroadcastProcessFunction):
    """Keyed by msisdn, campaigns broadcast: keeps the subscriber's profile, hourly buckets and contact record and
    decides each trigger with :func:`udfs.decisions.decide`, in ts order."""

    def __init__(
        self, policy: Policy, tag_settings, state_ttl_hours: float, ordering: Ordering, profile_wait_ms: int = 0
    ):
        self.policy, self.tag_settings = policy, tag_settings
        self.state_ttl_hours = state_ttl_hours
        self.ordering = ordering
        #: By arrival: how long a trigger may wait for a profile not read yet (settings decisions.profile_wait_ms).
        self.profile_wait_ms = profile_wait_ms
        #: broadcast state name -> (its "all" entry as last read, that entry parsed): parsed again only on change
        self._parsed: dict[str, tuple[str | None, Any]] = {}

    def open(self, ctx) -> None:
        ttl = _ttl(self.state_ttl_hours)

        def state(desc):
            desc.enable_time_to_live(ttl)
            return desc

        # bytes packed by jobs/decisions/state.py (pickling a bytes value adds ~6 bytes; PRIMITIVE_ARRAY(BYTE) is
        # stored as Object[] in thread mode and fails at the first checkpoint)
        pickled = Types.PICKLED_BYTE_ARRAY()
        self.profile = ctx.get_state(ValueStateDescriptor("profile", pickled))
        self.history = ctx.get_state(state(ValueStateDescriptor("history", pickled)))
        self.pending = OrderedInputs(self.ordering, ctx)

    # --- campaigns and reference data (broadcast side) -----------------------------------------------

    def process_broadcast_element(self, value, ctx):
        tag, line = value[0], value[1]
        if tag == "counts":
            yield from self._counts_row(line, ctx)
            return
        if tag == "guardrail":
            yield from self._guardrail_row(line, ctx)
            return
        if tag != "campaign":
            yield from self._reference_row(tag, line, ctx)
            return
        try:
            obj = orjson.loads(line)
            campaign = parse_campaign(obj)
        except orjson.JSONDecodeError as e:
            yield _dlq("campaigns", "bad_json", str(e), line)
            return
        except CampaignError as e:
            yield _dlq("campaigns", "invalid_campaign", str(e), line)
            return
        state = ctx.get_broadcast_state(CAMPAIGNS)
        current = orjson.loads(state.get(_ALL) or "{}")
        current[campaign.id] = obj  # the latest definition of an id wins: edit, pause, end
        state.put(_ALL, orjson.dumps(current).decode())

    @staticmethod
    def _counts_row(line: str | None, ctx):
        """A variant's counts from the effect job: kept when newer than the ones held; a corrupt or stale record is
        a dead letter and changes nothing (a decision already made stays made)."""
        if line is None:
            return
        record, unreadable = read_line(line, (), 0, "")
        if unreadable:
            yield _dlq("uplift", *unreadable, line)
            return
        if not isinstance(record, dict) or record.get("scope") != "variant":
            return  # the other groups' uplift: not counts
        read = counts_of(record)
        if len(read) == 2:
            yield _dlq("uplift", *read, line)
            return
        campaign_id, variant_id, counts = read
        state = ctx.get_broadcast_state(COUNTS)
        current = orjson.loads(state.get(_ALL) or "{}")
        held = current.get(campaign_id, {}).get(variant_id)
        if held is not None and counts.version <= held[2]:
            yield _dlq("uplift", "stale_counts", f"version {counts.version}, held {held[2]}", line)
            return
        current.setdefault(campaign_id, {})[variant_id] = [counts.leads, counts.converted, counts.version]
        state.put(_ALL, orjson.dumps(current).decode())

    @staticmethod
    def _guardrail_row(line: str | None, ctx):
        """A campaign paused by the guardrail, or resumed: the latest record of a campaign is its state."""
        if line is None:
            return
        record, unreadable = read_line(line, (), 0, "")
        if unreadable:
            yield _dlq("guardrail", *unreadable, line)
            return
        if not isinstance(record, dict) or not isinstance(record.get("campaign_id"), str):
            yield _dlq("guardrail", "missing_field", "campaign_id", line)
            return
        if record.get("state") not in ("paused", "active"):
            yield _dlq("guardrail", "invalid_value", f"state: {record.get('state')!r}"[:200], line)
            return
        state = ctx.get_broadcast_state(PAUSED)
        paused = orjson.loads(state.get(_ALL) or "{}")
        if record["state"] == "paused":
            paused[record["campaign_id"]] = str(record.get("reason") or "paused by the guardrail")
        else:
            paused.pop(record["campaign_id"], None)
        state.put(_ALL, orjson.dumps(paused).decode())

    def _held(self, ctx, desc: MapStateDescriptor, parse: Callable[[dict], Any]) -> Any:
        """The one entry of broadcast state ``desc``, parsed by ``parse``; parsed again only when it changed."""
        text = ctx.get_broadcast_state(desc).get(_ALL)
        name = desc.get_name()
        if name not in self._parsed or self._parsed[name][0] != text:
            self._parsed[name] = (text, parse(orjson.loads(text or "{}")))
        return self._parsed[name][1]

    def _variant_counts(self, ctx) -> dict[str, dict[str, Counts]]:
        return self._held(
            ctx, COUNTS, lambda held: {c: {v: Counts(*x) for v, x in vs.items()} for c, vs in held.items()}
        )

    @staticmethod
    def _reference_row(tag: str, line: str | None, ctx):
        name, key = _BROADCAST_INPUTS[tag]
        if line is None:  # a tombstone: without its key there is nothing to remove (docs/operations.md)
            return
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            yield _dlq(name, "bad_json", str(e), line)
            return
        if not isinstance(row, dict) or not isinstance(row.get(key), str):
            yield _dlq(name, "missing_field", key, line)
            return
        ctx.get_broadcast_state(_REFERENCE_STATE[name]).put(row[key], line)

    def _campaigns(self, ctx) -> list[Campaign]:
        return self._held(ctx, CAMPAIGNS, lambda objs: [parse_campaign(o) for o in objs.values()])

    # --- per subscriber ---------------------------------------------------------------------------

    def process_element(self, value, ctx):
        _, kind, ts, line = value[0], value[1], value[2], value[3]
        source, required = _INPUTS[kind]
        record, defect = read_line(line, required, ts, required[-1])
        if defect:
            yield _dlq(source, *defect, line)
            return
        if kind == "trigger":
            if self.ordering.by_arrival:
                record[_ARRIVED] = ctx.timer_service().current_processing_time()
            self.pending.hold(ctx.timer_service(), ts, record)
        elif kind == "behaviour":
            bucket, dead = ruled(lambda: tuple(compact(record)), lambda e: _dlq(source, OPERATOR_ERROR, e, line))
            if dead is not None:
                yield dead
                return
            buckets, contacts = unpack_history(self.history.value())
            buckets[ts] = bucket
            if self.ordering.by_arrival:  # streaming: hours arrive in order, drop what fell out of reach
                _prune(buckets, ts)
            self.history.update(pack_history(buckets, contacts))
        else:  # profile (reference row: products ';'-joined) or profile update (products a list)
            products = record.get("products") or []  # an empty CSV cell arrives as null
            record["products"] = [p for p in products.split(";") if p] if isinstance(products, str) else products
            packed, dead = ruled(lambda: pack_profile(record), lambda e: _dlq(source, OPERATOR_ERROR, e, line))
            if dead is not None:
                yield dead
                return
            self.profile.update(packed)
            if self.ordering.by_arrival and not self.pending.is_empty():  # triggers waited for it
                now = ctx.timer_service().current_processing_time()
                ctx.timer_service().register_processing_time_timer(now + self.ordering.reorder_ms)

    def on_timer(self, timestamp: int, ctx):
        if self.ordering.by_arrival:
            waiting = self.pending.waiting()
            if not waiting:  # decided at an earlier timer
                return
            if self.profile.value() is None:
                # no profile yet: wait for it while the oldest trigger may (a timer for the rest of its wait)
                arrived = min(t.get(_ARRIVED, 0) for t in waiting)
                if timestamp < arrived + self.profile_wait_ms:
                    ctx.timer_service().register_processing_time_timer(arrived + self.profile_wait_ms)
                    return
        due = self.pending.release(timestamp)
        # in ts order; at one ts by trigger id, whatever order they arrived in
        triggers = [t for _, t in sorted(due, key=lambda x: (x[0], str(x[1].get("trigger_id", ""))))]
        for t in triggers:
            t.pop(_ARRIVED, None)
        if triggers:
            yield from self._decide(triggers, ctx, max(ts for ts, _ in due))

    def _rows(self, trigger, campaigns, profile, buckets, contacts, reference, loop):
        rules = (self.policy, reference, self.tag_settings, *loop)
        for d in decide(trigger, campaigns, profile, buckets, contacts, *rules):
            payload = {"decision": d.record(0), "lead": d.lead, "daily_budget": d.campaign.daily_budget}
            yield Row(d.campaign.id, orjson.dumps(payload).decode())

    def _decide(self, triggers: list[dict[str, Any]], ctx, last_ts: int):
        """Decide ``triggers`` (in order); ``last_ts``: the newest event time among them, as SQL read it (a
        trigger's own ``ts`` field may be anything: the rules meet that, inside the dead-letter guard)."""
        campaigns = self._campaigns(ctx)
        state = ctx.get_broadcast_state
        reference = Reference(**{n: StateLookup(state(d), orjson.loads) for n, d in _REFERENCE_STATE.items()})
        stored, contacts = unpack_history(self.history.value())
        profile = unpack_profile(self.profile.value())
        buckets = as_buckets(stored)
        # what the effect job fed back: the variants' counts, the campaigns its guardrail paused
        loop = (self._variant_counts(ctx), self._held(ctx, PAUSED, dict))
        for trigger in triggers:
            # one trigger the rules cannot decide (a poisoned record) is a dead letter; the others are decided
            yield from all_or_dead_letter(
                lambda trigger=trigger: self._rows(trigger, campaigns, profile, buckets, contacts, reference, loop),
                lambda e, trigger=trigger: _dlq("triggers", OPERATOR_ERROR, e, orjson.dumps(trigger).decode()),
            )
        keep = max(
            [self.policy.window_ms, self.policy.lead_validity_ms]
            + [round(c.cooldown_hours * HOUR_MS) for c in campaigns]
        )
        contacts.prune(last_ts, keep)
        _prune(stored, last_ts)
        self.history.update(pack_history(stored, contacts))


def _prune(buckets: dict[int, tuple], now: int) -> None:
    """Drop the hours no rollup from ``now`` on can reach."""
    for h in [h for h in buckets if h < now - (KEEP_HOURS + 1) * HOUR_MS]:
        del buckets[h]


class CampaignBudgets(KeyedProcessFunction):
    """Keyed by campaign id: the daily budget on each decision, then the decision record and the lead (held until
    ``deliver_at`` when quiet hours deferred it)."""

    def __init__(self, timezone: str, streaming: bool):
        self.timezone, self.streaming = timezone, streaming

    def open(self, ctx) -> None:
        pickled = Types.PICKLED_BYTE_ARRAY()
        self.spent = ctx.get_state(ValueStateDescriptor("spent", pickled))
        self.held = ctx.get_map_state(MapStateDescriptor("held", Types.LONG(), pickled))

    def process_element(self, value, ctx):
        item = orjson.loads(value[1])
        if "dlq" in item:
            yield Row("dlq", *item["dlq"])
            return
        decision = item["decision"]
        spent = self.spent.value() or {}
        charged = sum(spent.values())
        lead = charge_daily_budget(spent, item["daily_budget"], decision, item["lead"], self.timezone)
        if sum(spent.values()) != charged:
            self.spent.update(spent)
        decision["decided_at"] = _now_ms()
        yield Row("decisions", "decisions", None, None, orjson.dumps(decision).decode())
        if lead is None:
            return
        if lead["deliver_at"] > decision["trigger_ts"]:
            # Deferred by quiet hours: emitted at deliver_at (wall clock when streaming; at once if that is
            # past, e.g. in an accelerated demo).
            batch = self.held.get(lead["deliver_at"]) or []
            self.held.put(lead["deliver_at"], batch + [lead])
            if self.streaming:
                ctx.timer_service().register_processing_time_timer(lead["deliver_at"])
            else:
                ctx.timer_service().register_event_time_timer(lead["deliver_at"])
        else:
            yield self._emit(lead)

    def on_timer(self, timestamp: int, ctx):
        for lead in self.held.get(timestamp) or []:
            yield self._emit(lead)
        self.held.remove(timestamp)

    @staticmethod
    def _emit(lead: dict[str, Any]) -> Row:
        return Row("leads", "leads", None, None, orjson.dumps(lead | {"created_at": _now_ms()}).decode())
