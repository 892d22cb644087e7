"""The journeys job's Python operator (PyFlink DataStream, thread mode); the rules are udfs/journeys.py.

:class:`TrialJourneys`, keyed by msisdn, keeps the subscriber's running trials (one :class:`udfs.journeys.Trial`
per journey) and takes the subscriber's inputs — trial starts, orders, hourly usage — in event-time order: each
input waits in the ordered buffer the decision and effect jobs use too (jobs/ordered.py), always by event time,
for a timer at its own time; each trial waits for one at its next step. At one moment
usage is taken first, then orders (by id), then the steps due, as the reference (:func:`udfs.journeys.run`)
does. Event time, in both modes: a step is due days after the order that started the trial, so it is the
watermark — the data's own clock — that makes it due, in a replay as in a stream (where tests and the demo move
it on with an event-time marker). A replay flushes every timer at its end; what would fire past the data's
last event time is dropped, as the trigger job drops zero_usage there.

Rows out are ``(topic, source, reason, detail, record)`` for sql/journeys/emit.sql.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from pyflink.common import Row, Types
from pyflink.datastream.functions import KeyedProcessFunction
from pyflink.datastream.state import MapStateDescriptor

from jobs.lines import OPERATOR_ERROR, ruled
from jobs.ordered import OrderedInputs, Ordering
from udfs.journeys import RANK, Journey, JourneyError, Trial, parse_journey, start

OUT_TYPE = Types.ROW_NAMED(["topic", "source", "reason", "detail", "record"], [Types.STRING()] * 5)


def _dlq(reason: str, detail: str, record: str) -> Row:
    return Row("dlq", "journeys", reason, detail[:500], record)


def _dead_input(record: dict[str, Any]):
    def dead(detail: str) -> Row:
        shown = {k: v for k, v in record.items() if k != "journey"}  # the parsed definition is not JSON
        return _dlq(OPERATOR_ERROR, detail, orjson.dumps(shown, default=str).decode())

    return dead


def _take(trials: dict[str, Trial], tag: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """One input at its moment: an hour of usage, an order, or a trial start (also an order). Returns the events."""
    out: list[dict[str, Any]] = []
    if tag == "usage":
        if (t := trials.get(record["journey_id"])) is not None:
            t.take_usage(record["app"], record["hour_start"], record["bytes"])
        return out
    for t in trials.values():
        out += t.take_order(record)
    if tag == "trial":
        journey: Journey = record.pop("journey")
        running = trials.get(journey.id)
        if running is None or running.ended:
            trial = start(record, journey, record if record["has_profile"] else None)
            if trial is not None:
                trials[journey.id] = trial
    return out


class TrialJourneys(KeyedProcessFunction):
    """Keyed by msisdn: the subscriber's trials, their steps and their ends."""

    def __init__(self, data_end: int | None, max_trial_ms: int):
        #: event time in both modes: a step is due by the data's clock
        self.ordering = Ordering.event_time(data_end)
        #: journeys.max_trial_days: a longer trial would outlive the usage join's state (sql/journeys/inputs.sql)
        self.max_trial_ms = max_trial_ms
        self._parsed: tuple[str | None, Journey | JourneyError | None] = (None, None)

    def open(self, ctx) -> None:
        pickled = Types.PICKLED_BYTE_ARRAY()
        #: journey id -> the running trial (JSON of udfs.journeys.Trial)
        self.trials = ctx.get_map_state(MapStateDescriptor("trials", Types.STRING(), pickled))
        #: inputs waiting for their moment: ts -> [(rank, id, tag, record)]
        self.pending = OrderedInputs(self.ordering, ctx)

    def process_element(self, value, ctx):
        _, tag, ts, payload = value[0], value[1], value[2], value[3]
        record = orjson.loads(payload)  # built by sql/journeys/inputs.sql: always JSON
        if tag == "trial":
            journey = self._journey(record.pop("journey"))
            if isinstance(journey, JourneyError):
                yield _dlq("invalid_journey", str(journey), payload)
                return
            if journey.trial_ms > self.max_trial_ms:
                detail = f"trial_days: longer than journeys.max_trial_days ({self.max_trial_ms / 86_400_000:g})"
                yield _dlq("invalid_journey", detail, payload)
                return
            record["journey"] = journey
            rank, key = RANK["order"], record["order_id"]
        elif tag == "order":
            rank, key = RANK["order"], record["order_id"]
        else:  # one journey's hour: a second trial of the journey joins it again
            rank, key = RANK["usage"], f"{record['journey_id']}|{record['app']}|{record['hour_start']}"
        self.pending.hold(ctx.timer_service(), ts, (rank, key, tag, record))

    def _journey(self, text: str) -> Journey | JourneyError:
        if text != self._parsed[0]:  # parse a definition once, not at every trial start
            try:
                parsed: Journey | JourneyError = parse_journey(orjson.loads(text))
            except orjson.JSONDecodeError as e:
                parsed = JourneyError("(journey)", f"not JSON: {e}")
            except JourneyError as e:
                parsed = e
            self._parsed = (text, parsed)
        return self._parsed[1]

    def on_timer(self, timestamp: int, ctx):
        due = [x for _, x in self.pending.release(timestamp)]
        inputs = sorted({x[:2]: x for x in due}.values(), key=lambda x: x[:2])
        if self.ordering.past_end(timestamp):  # a replay's flush past its data
            return
        trials = {jid: Trial(**orjson.loads(v)) for jid, v in self.trials.items()}
        out: list[dict[str, Any]] = []
        dead: list[Row] = []
        for _, _, tag, record in inputs:
            # an input the rules raise on is a dead letter; the subscriber's other inputs and trials go on
            events, letter = ruled(lambda tag=tag, record=record: _take(trials, tag, record), _dead_input(record))
            out += events or []
            dead += [letter] if letter is not None else []
        yield from dead
        for t in trials.values():
            out += t.take_due(timestamp)
        timers = ctx.timer_service()
        for jid, t in trials.items():
            due = t.next_due()
            if due is None:  # converted, declined or over: nothing more to do
                self.trials.remove(jid)
                continue
            self.trials.put(jid, orjson.dumps(t.__dict__))
            timers.register_event_time_timer(due)
        now = int(time.time() * 1000)
        for event in out:
            yield Row("journey_events", "journeys", None, None, orjson.dumps({**event, "detected_at": now}).decode())
