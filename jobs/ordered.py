"""The ordered, keyed input buffer that the decision, effect and journeys operators share: each takes one key's
inputs in event-time order, in one of two explicit modes (:class:`Mode`).

- ``EVENT_TIME``: an input waits for an event-time timer at its own ts; every input of that ts is released when
  the watermark passes it. A replay runs this way: it has no watermark until its end, where every timer fires in
  ts order with all inputs read, so it is exact and repeatable. The journeys job runs this way in both modes,
  because a trial's step is due by the data's own clock.
- ``ARRIVAL``: an input waits ``ordering.reorder_ms`` of processing time after it arrives; then everything the
  key has waiting is released in ts order. Streaming decisions and effect run this way: event-time timers
  stalled there once the sparse inputs (campaigns, profile updates, triggers at night) went idle and came back,
  since the Python two-input operator's watermark no longer advanced.

The buffer is the MapState ``pending`` (ts -> list of items, pickled). The name and types are what the three
operators used before this module existed, so existing checkpoints and savepoints still restore.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pyflink.common import Types
from pyflink.datastream.state import MapStateDescriptor

from touchpoint.config import Settings

#: ARRIVAL's processing-time timers are rounded down to this many ms: one timer per key and 100 ms, not per input.
COALESCE_MS = 100


class Mode(Enum):
    EVENT_TIME = "event_time"
    ARRIVAL = "arrival"


@dataclass(frozen=True)
class Ordering:
    """How an operator orders a key's inputs. ``data_end``: a replay's last event time; a timer past it is its
    flush at the end of input, not a moment of the data."""

    mode: Mode
    reorder_ms: int = 0
    data_end: int | None = None

    @classmethod
    def event_time(cls, data_end: int | None = None) -> Ordering:
        return cls(Mode.EVENT_TIME, data_end=data_end)

    @classmethod
    def arrival(cls, reorder_ms: int) -> Ordering:
        return cls(Mode.ARRIVAL, reorder_ms=reorder_ms)

    @classmethod
    def of_job(cls, settings: Settings, streaming: bool, data_end: int | None = None) -> Ordering:
        """A job's ordering: ARRIVAL after ``ordering.reorder_ms`` when streaming, EVENT_TIME in a replay."""
        return cls.arrival(settings.ordering.reorder_ms) if streaming else cls.event_time(data_end)

    @property
    def by_arrival(self) -> bool:
        return self.mode is Mode.ARRIVAL

    def past_end(self, timestamp: int) -> bool:
        """Whether a timer at ``timestamp`` is a replay's flush past the data's end."""
        return self.data_end is not None and timestamp > self.data_end

    def schedule(self, timers, event_ms: int, wait_ms: int) -> int:
        """A later moment in this ordering's time, for a window that closes: EVENT_TIME at ``event_ms``, ARRIVAL
        ``wait_ms`` from now. Registers the timer and returns its time."""
        if self.by_arrival:
            at = timers.current_processing_time() + wait_ms
            timers.register_processing_time_timer(at)
        else:
            at = event_ms
            timers.register_event_time_timer(at)
        return at


class OrderedInputs:
    """One key's inputs waiting for their turn (MapState ``name``: ts -> [item]), held and released per
    :class:`Ordering`. Create it in the operator's ``open``."""

    def __init__(self, ordering: Ordering, ctx, name: str = "pending"):
        self.ordering = ordering
        self.state = ctx.get_map_state(MapStateDescriptor(name, Types.LONG(), Types.PICKLED_BYTE_ARRAY()))

    def hold(self, timers, ts: int, item: Any) -> None:
        """Keep ``item`` (an input at event time ``ts``) until its timer."""
        if self.ordering.by_arrival:
            due = timers.current_processing_time() + self.ordering.reorder_ms
            timers.register_processing_time_timer(due - due % COALESCE_MS)
        else:
            timers.register_event_time_timer(ts)
        self.state.put(ts, (self.state.get(ts) or []) + [item])

    def waiting(self) -> list[Any]:
        """Every item held, in no particular order."""
        return [x for batch in self.state.values() for x in batch or []]

    def is_empty(self) -> bool:
        return self.state.is_empty()

    def release(self, timestamp: int) -> list[tuple[int, Any]]:
        """The items due at a timer firing at ``timestamp``, as (ts, item), oldest ts first (in arrival order at one
        ts), removed from the buffer: EVENT_TIME those at ``timestamp``, ARRIVAL all held."""
        due = sorted(self.state.keys()) if self.ordering.by_arrival else [timestamp]
        out = []
        for ts in due:
            out += [(ts, x) for x in self.state.get(ts) or []]
            self.state.remove(ts)
        return out
