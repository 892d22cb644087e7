"""The effect job's two Python operators (PyFlink DataStream, thread mode); the rules are udfs/effect.py.

1. :class:`LeadEffects`, keyed by msisdn, the product catalogue broadcast (product -> family, so a catalogue
   change applies from then on): keeps the subscriber's open leads (not converted, window not over),
   checks delivery reports against them, lets each order claim one (:func:`udfs.effect.claim`), and emits
   ``converted`` and ``expired`` outcomes plus one count row per lead and per conversion for each group it belongs to.
2. :class:`UpliftCounts`, keyed by group: the treatment and control counts, and after each change the group's
   uplift record (:func:`udfs.effect.uplift`). The latest record of a group is its current value (compacted
   topic, a ReplacingMergeTree in ClickHouse).

Inputs wait in the ordered buffer the decision job uses too (jobs/ordered.py): a replay takes them at the end of
input in ts order; streaming holds them ``ordering.reorder_ms`` (processing time) and takes them in ts order. A
lead's window ends at an event-time timer in a replay (kept open when that is past the data's end) and at a
processing-time timer as long after its arrival in streaming.

Rows out are ``(topic, source, reason, detail, record)`` for sql/effect/emit.sql, or ``("count", group,
payload)`` rows for the second operator.
"""

from __future__ import annotations

from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedBroadcastProcessFunction, KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

from jobs.lines import OPERATOR_ERROR, StateLookup, all_or_dead_letter, read_line
from jobs.ordered import OrderedInputs, Ordering
from udfs.effect import (
    MAY_HAVE,
    NEEDS,
    Watch,
    claim,
    defect,
    group_id,
    groups,
    guardrail,
    lead_of,
    order_of,
    pause_record,
    uplift,
)

OUT_TYPE = Types.ROW_NAMED(["topic", "source", "reason", "detail", "record"], [Types.STRING()] * 5)
COUNT_TYPE = Types.TUPLE([Types.STRING(), Types.STRING()])
#: Broadcast state: product id -> its family (reference/products.csv, the reference-products topic).
FAMILIES = MapStateDescriptor("families", Types.STRING(), Types.STRING())

#: input tag -> its DLQ source (the fields each needs: udfs.effect.NEEDS), and the order inputs of one ts are
#: taken in
_SOURCE = {"lead": "leads", "delivered": "outcomes", "order": "orders"}
_RANK = {"lead": 0, "delivered": 1, "order": 2}
#: what a lead's state keeps of it: what the rules and the outcomes read
_KEPT = (*NEEDS["lead"], *MAY_HAVE["lead"], "trigger_id")


def _dlq(source: str, reason: str, detail: str, line: str) -> Row:
    return Row("dlq", source, reason, detail[:500], line)


def _outcome(lead: dict[str, Any], status: str, ts: int, order_id: str | None = None) -> Row:
    record = {
        "outcome_id": f"oc-{lead['lead_id'][2:]}-{status}",
        "lead_id": lead["lead_id"],
        "trigger_id": lead.get("trigger_id"),
        "msisdn": lead["msisdn"],
        "campaign_id": lead["campaign_id"],
        "status": status,
        "ts": ts,
    }
    if order_id is not None:
        record["order_id"] = order_id
    return Row("outcomes", "outcomes", None, None, orjson.dumps(record).decode())


class LeadEffects(KeyedBroadcastProcessFunction):
    """Keyed by msisdn: the subscriber's open leads, their delivery and conversion."""

    def __init__(self, timezone: str, ordering: Ordering):
        self.timezone = timezone
        self.ordering = ordering

    def open(self, ctx) -> None:
        pickled = Types.PICKLED_BYTE_ARRAY()
        #: lead id -> the lead's fields the rules need (JSON), while its window is open
        self.leads = ctx.get_map_state(MapStateDescriptor("leads", Types.STRING(), pickled))
        #: inputs waiting to be taken in ts order: ts -> [(tag, record, line)]
        self.pending = OrderedInputs(self.ordering, ctx)
        #: window end (ms; streaming: processing time) -> lead ids
        self.closing = ctx.get_map_state(MapStateDescriptor("closing", Types.LONG(), pickled))

    def process_broadcast_element(self, value, ctx):
        line = value[0]
        if line is None:  # a tombstone: without its key there is nothing to remove (docs/operations.md)
            return
        record, problem = read_line(line, ("product_id", "family"), 0, "")
        if problem:
            yield _dlq("products", *problem, line)
            return
        ctx.get_broadcast_state(FAMILIES).put(record["product_id"], record["family"])

    def process_element(self, value, ctx):
        _, tag, ts, line = value[0], value[1], value[2], value[3]
        source = _SOURCE[tag]
        record, problem = read_line(line, tuple(NEEDS[tag]), ts, "trigger_ts" if tag == "lead" else "ts")
        problem = problem or defect(tag, record)
        if problem:
            yield _dlq(source, *problem, line)
            return
        self.pending.hold(ctx.timer_service(), ts, (tag, record, line))

    def on_timer(self, timestamp: int, ctx):
        batch = [item for _, item in self.pending.release(timestamp)]
        # in ts order; at one ts: leads, then reports, then orders by id
        for tag, record, line in sorted(batch, key=lambda x: (_ts(*x[:2]), _RANK[x[0]], _order_id(x[1]))):
            # a record the rules raise on (a poisoned lead, report or order) is a dead letter; the rest go on
            yield from all_or_dead_letter(
                lambda tag=tag, record=record, line=line: self._take(tag, record, line, ctx),
                lambda e, tag=tag, line=line: _dlq(_SOURCE[tag], OPERATOR_ERROR, e, line),
            )
        yield from self._close(timestamp, ctx)

    def _take(self, tag: str, record: dict[str, Any], line: str, ctx):
        if tag == "lead":
            lid = record["lead_id"]
            if self.leads.contains(lid):  # the same lead again (at-least-once delivery)
                return
            keep = {k: record.get(k) for k in _KEPT}
            self.leads.put(lid, orjson.dumps(keep))
            self._closing_at(lid, keep, ctx)
            yield from _counts(keep, "lead", self.timezone, keep["deliver_at"])
        elif tag == "delivered":
            # the report stays on the outcomes topic (the funnel reads it there); a lead nobody knows is a mistake
            # of the outbound system, or of its topic
            if not self.leads.contains(record["lead_id"]):
                yield _dlq("outcomes", "unknown_lead", record["lead_id"], line)
        else:
            open_leads = {lid: orjson.loads(v) for lid, v in self.leads.items()}
            order = order_of(record)
            families = StateLookup(ctx.get_broadcast_state(FAMILIES), str)
            won = claim([lead_of(x) for x in open_leads.values()], order, families)
            if won is None:
                return
            lead = open_leads[won.lead_id]
            self.leads.remove(won.lead_id)
            yield _outcome(lead, "converted", order.ts, order.order_id)
            yield from _counts(lead, "converted", self.timezone, order.ts)

    def _closing_at(self, lid: str, lead: dict[str, Any], ctx) -> None:
        # by arrival: as long after now as the window is after the lead's delivery
        window = lead["attribution_until"] - lead["deliver_at"]
        at = self.ordering.schedule(ctx.timer_service(), lead["attribution_until"], window)
        self.closing.put(at, (self.closing.get(at) or []) + [lid])

    def _close(self, timestamp: int, ctx):
        """Expire the leads whose window ended by ``timestamp`` (a replay: not past the data's end)."""
        if self.ordering.past_end(timestamp):
            return
        for at in [t for t in self.closing.keys() if t <= timestamp]:  # noqa: SIM118 (MapState, not a dict)
            for lid in self.closing.get(at) or []:
                stored = self.leads.get(lid)
                if stored is not None:
                    lead = orjson.loads(stored)
                    self.leads.remove(lid)
                    yield _outcome(lead, "expired", lead["attribution_until"])
            self.closing.remove(at)


def _counts(lead: dict[str, Any], what: str, timezone: str, ts: int):
    """One count row per group of the lead: a lead, or a conversion, in its arm, at event time ``ts``."""
    for group in groups(lead, timezone):
        payload = orjson.dumps({**group, "control": bool(lead["control"]), what: 1, "ts": ts}).decode()
        yield Row("count", group_id(group), payload, None, None)


def _ts(tag: str, record: dict[str, Any]) -> int:
    ts = record["trigger_ts"] if tag == "lead" else record["ts"]
    return ts if isinstance(ts, int) else 0  # SQL read an integer ts from the line; the record may still say "x"


def _order_id(record: dict[str, Any]) -> str:
    return str(record.get("order_id") or "")


class UpliftCounts(KeyedProcessFunction):
    """Keyed by group: treatment and control leads and conversions, and the group's uplift after each change; a
    campaign's group pauses its campaign once when the guardrail trips at one of its looks (udfs.effect.guardrail)."""

    def __init__(self, min_sample: int, guardrail: bool = True, guardrail_wait_ms: int = 0):
        self.min_sample = min_sample
        self.guardrail = guardrail
        self.wait_ms = guardrail_wait_ms

    def open(self, ctx) -> None:
        #: [treatment leads, treatment converted, control leads, control converted, changes, the guardrail's looks,
        #: paused (0/1), when its next look is judged (ms, -1: none pending), the latest time seen (ms: the guardrail's
        #: clock, which a lead's later delivery or an order does not move back)]
        self.counts = ctx.get_state(ValueStateDescriptor("counts", Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value, ctx):
        item = orjson.loads(value[1])
        counts = orjson.loads(self.counts.value() or b"[0, 0, 0, 0, 0, 0, 0, -1, 0]")
        if len(counts) < 9:  # the state of an earlier version: no looks; a sixth entry was the pause
            counts = counts[:5] + [0, int(len(counts) == 6), -1, 0]
        arm = 2 if item.pop("control") else 0
        counts[arm] += item.pop("lead", 0)
        counts[arm + 1] += item.pop("converted", 0)
        ts = item.pop("ts")
        counts[4] += 1
        counts[8] = max(counts[8], ts)
        u = uplift(*counts[:4], min_sample=self.min_sample)
        record = {"uplift_id": value[0], **item, **u.record(), "version": counts[4], "ts": ts}
        yield Row("uplift", "uplift", None, value[0], orjson.dumps(record).decode())  # detail: the group, its key
        pause = False
        if self.guardrail and item.get("scope") == "campaign" and not counts[6]:
            before = Watch(counts[5], None if counts[7] < 0 else counts[7])
            watch, pause = guardrail(u, counts[8], before, self.min_sample, self.wait_ms)
            counts[5], counts[7] = watch.taken, -1 if watch.due_at is None else watch.due_at
            counts[6] = int(pause)  # once: a marketer who resumes it has seen the numbers
        self.counts.update(orjson.dumps(counts))
        if pause:
            record = pause_record(item["campaign_id"], u, counts[4], counts[8])
            yield Row("guardrail", "guardrail", None, item["campaign_id"], orjson.dumps(record).decode())
