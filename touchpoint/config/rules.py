"""Settings of the rules: what a valid record is, event time, who "we" are, the trigger kinds' parameters, the
contact policy, tags, effect, journeys and micro-region metrics. The ground truth reads the same values as the
jobs, so a parameter means the same thing to both."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from touchpoint.config.base import Section, TimeZone
from udfs import trigger_kinds
from udfs.units import DAY_MS, HOUR_MS, MB, MINUTE_MS


class Ingest(Section):
    """Validation bounds. Absolute (not relative to the wall clock) so replay and streaming agree."""

    ts_min: datetime = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    """A record whose ``ts`` is before this is invalid (``ts_out_of_range``, to the dead-letter topic)."""
    ts_max: datetime = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
    """A record whose ``ts`` is after this is invalid, as ``ts_min``."""

    @property
    def ts_min_ms(self) -> int:
        return int(self.ts_min.timestamp() * 1000)

    @property
    def ts_max_ms(self) -> int:
        return int(self.ts_max.timestamp() * 1000)


class EventTime(Section):
    """Watermarks: what the pipeline asks of producers (docs/operations.md, partitions and event time)."""

    max_out_of_orderness_ms: int = Field(60_000, ge=0)
    """Bounded out-of-orderness of the watermark: a record more than this behind its own raw partition is late
    (to the dead-letter topic as ``late``). The simulator never delays an event by more."""
    idle_timeout_ms: int = Field(30_000, ge=0)
    """A raw partition that sends nothing for this long stops holding the watermark back, until it sends again."""


class Network(Section):
    """Who "we" are: the operator's PLMNs and province, for roaming decisions."""

    home_plmns: list[str] = ["46000", "46002", "46007", "46008"]
    """The operator's own networks (MCC+MNC): an IMSI outside them is an inbound roamer, a VLR outside them means
    the subscriber is roaming out."""
    home_province: str = "JS"
    """The operator's province: a home-network number whose prefix belongs to another province (number ranges) is
    an inbound roamer too."""


class Triggers(Section):
    """Parameters of the trigger definitions in docs/triggers.md. Durations are set in the unit of their name; the
    triggers job and the ground truth both compute with the properties below (milliseconds, bytes)."""

    region_entry_min_outside_minutes: int = Field(20, ge=1)
    """``region_entry``: the subscriber's last location event in the region is at least this much earlier (or
    there is none), so ping-pong between a border cell and its neighbour does not fire again."""
    dwell_minutes: int = Field(30, ge=1)
    """``dwell``: fires at the first event of a stay in a watched region at least this long after the stay began."""
    directory_number: str = "114"
    """``dial_114``: the directory enquiries number a mobile-originated call dials."""
    hotline_numbers: list[str] = ["10086"]
    """``dial_hotline``: the operator's hotlines."""
    handset_store_visits: int = Field(3, ge=1)
    """``handset_store_visits``: fires on the visit to a handset store that makes this many within
    ``handset_store_days``."""
    handset_store_days: int = Field(7, ge=1)
    """``handset_store_visits``: the trailing window the visits are counted in, edge included."""
    power_on_min_off_hours: float = Field(4.0, gt=0)
    """``power_on``: an attach fires when the detach before it is at least this much earlier."""
    quota_thresholds_mb: list[int] = [20, 5, 0]
    """One data-plan kind ``quota_<n>mb`` per threshold (remaining quota in MB)."""
    zero_usage_hours: float = Field(24.0, gt=0)
    """``zero_usage``: a data package bought and followed by no xDR for this long."""
    abnormal_usage_mb: int = Field(500, ge=1)
    """``abnormal_usage``: the xDR that takes a subscriber's data within one UTC clock hour to this many MB."""
    roam_in_gap_hours: float = Field(24.0, gt=0)
    """``roam_in``: an inbound roamer's first event, or the first after a silence of at least this long."""
    timezone: TimeZone = "Asia/Shanghai"
    """The billing calendar's zone: a billing month (quota kinds) is a calendar month here. (Quiet hours and budget
    days follow decisions.timezone, the subscribers' local time; both are usually the operator's zone.)"""
    billing_month: str = Field("2026-11", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    """The billing month (yyyy-MM) whose usage the profiles' ``data_used_mb`` holds, i.e. the month of the profile
    snapshot; a later month starts from zero usage. Set it with each profile snapshot you load."""
    kinds: list[str] | None = Field(None, validate_default=True)
    """Kinds the triggers job detects (recipes in sql/triggers/kinds/). Default: every kind it has a recipe for,
    with one quota kind per threshold."""

    @field_validator("quota_thresholds_mb")
    @classmethod
    def _thresholds(cls, v: list[int]) -> list[int]:
        if any(x < 0 for x in v) or len(set(v)) != len(v):
            raise ValueError("thresholds are distinct whole numbers of MB >= 0, e.g. [20, 5, 0]")
        return v

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str] | None, info: ValidationInfo) -> list[str]:
        if "quota_thresholds_mb" not in info.data:  # invalid itself: reported on its own
            return v or []
        detectable = trigger_kinds.names(info.data["quota_thresholds_mb"])
        for kind in v or ():
            if kind not in detectable:
                threshold = trigger_kinds.quota_threshold(kind)
                raise ValueError(
                    f"{kind!r}: {threshold} MB is not in triggers.quota_thresholds_mb"
                    if threshold is not None
                    else f"the triggers job does not detect {kind!r}; it detects {', '.join(detectable)}"
                )
        return detectable if v is None else v

    @property
    def region_entry_min_outside_ms(self) -> int:
        return self.region_entry_min_outside_minutes * MINUTE_MS

    @property
    def dwell_ms(self) -> int:
        return self.dwell_minutes * MINUTE_MS

    @property
    def handset_store_window_ms(self) -> int:
        return self.handset_store_days * DAY_MS

    @property
    def power_on_min_off_ms(self) -> int:
        return round(self.power_on_min_off_hours * HOUR_MS)

    @property
    def zero_usage_window_ms(self) -> int:
        return round(self.zero_usage_hours * HOUR_MS)

    @property
    def abnormal_usage_bytes(self) -> int:
        return self.abnormal_usage_mb * MB

    @property
    def roam_in_gap_ms(self) -> int:
        return round(self.roam_in_gap_hours * HOUR_MS)


class Ordering(Section):
    """How the keyed Python operators (decisions, effect) order a subscriber's inputs when streaming
    (jobs/ordered.py). A replay always takes them in exact ts order; the journeys job follows event time in both
    modes."""

    reorder_ms: int = Field(1_000, ge=0)
    """Streaming: an input (a trigger; a lead, delivery report or order) waits this long (processing time) so that
    a subscriber's inputs arriving close together are taken in ts order. Every lead waits it on purpose."""


class Decisions(Section):
    """The decision job and its contact policy (docs/decisions.md)."""

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reorder_ms" in data:
            raise ValueError("reorder_ms is now ordering.reorder_ms (the effect job follows it too)")
        return data

    timezone: TimeZone = "Asia/Shanghai"
    """Quiet hours, the budget day and message times are local to this zone."""
    lead_validity_hours: float = Field(48.0, gt=0)
    """A lead is worth nothing this long after its trigger: it expires (``expires_at``)."""
    attribution_days: float = Field(7.0, gt=0)
    """A lead's attribution window (docs/effect.md) unless its campaign sets ``attribution_days``."""
    holdout_percent: float = Field(2.0, ge=0, le=100)
    """The global holdout: this share (percent) of subscribers, stable by msisdn, gets no marketing at all: every
    lead of theirs is a control lead (reason ``holdout``). The effect job measures the programme against them."""
    variant_floor_percent: float = Field(10.0, ge=0, le=25)
    """Adaptive selection's floor of exploration (docs/variants.md): each variant of a ``selection: adaptive``
    campaign is offered to at least this share (percent) of its treatment leads, whatever its measured conversions
    say. At most 25, so that four variants can each have it."""
    max_leads_per_subscriber: int = Field(3, ge=0)
    """At most this many marketing leads (control-group leads excluded) per subscriber per
    ``contact_window_hours``."""
    contact_window_hours: float = Field(48.0, gt=0)
    """The window ``max_leads_per_subscriber`` counts leads in (any window of this length, sliding)."""
    quiet_start: time = time(21, 0)
    """No contact from quiet_start to quiet_end (local time, may wrap midnight); leads are deferred to quiet_end."""
    quiet_end: time = time(8, 0)
    """The end of the quiet hours (``quiet_start``): deferred leads are sent from then."""
    location_kinds: list[str] = Field(default_factory=trigger_kinds.location_names)
    """Kinds that reveal where the subscriber is: they also need location consent."""
    profile_wait_ms: int = Field(30_000, ge=0)
    """Streaming: a trigger of a subscriber whose profile is not in the job's state yet waits up to this long
    (processing time) for it, since the profiles topic is a separate input with no order against the
    triggers (at a start, a backlog of profiles can still be queued). Past it, the trigger is decided as
    `no_profile` (e.g. an inbound roamer, who has none)."""


class Tags(Section):
    """Thresholds of the tag library (udfs/tags.py), over the 48 h behaviour unless named otherwise."""

    heavy_data_mb_48h: float = Field(500.0, ge=0)
    """``heavy_data_user``: at least this many MB of data (up + down) in the last 48 h."""
    frequent_caller_calls_48h: int = Field(20, ge=0)
    """``frequent_caller``: at least this many calls (made and received) in the last 48 h."""
    hotline_caller_dials_48h: int = Field(2, ge=0)
    """``hotline_caller``: at least this many dials of a hotline or the directory number in the last 48 h."""
    roamer_hours_48h: int = Field(1, ge=0)
    """``roamer``: seen roaming out in at least this many hours of the last 48 h."""
    commuter_home_kinds: list[str] = ["residential"]
    """``commuter``: seen within 24 h in a region of one of these kinds (home) ..."""
    commuter_work_kinds: list[str] = ["office", "campus"]
    """... and in a region of one of these kinds (work)."""


class Effect(Section):
    """Effect tracking (docs/effect.md): which orders convert which leads, and the uplift over control leads."""

    min_sample: int = Field(30, ge=1)
    """Below this many leads in either arm (treatment, control) an uplift is "not enough data"."""
    guardrail: bool = True
    """Pause a campaign whose uplift has its whole 99 % interval below zero at one of the guardrail's looks (the
    smaller arm reaching ``min_sample``, then 2 ×, 4 × … as many leads): the effect job records the pause on the
    ``guardrail`` topic and the decision job suppresses the campaign's leads (``paused_by_guardrail``) until
    ``touchpoint campaigns resume`` (docs/effect.md)."""
    guardrail_wait_hours: float = Field(24.0, ge=0)
    """How long (event time) after a look falls due the guardrail judges it: the answers to the leads that made it
    due have come in by then. The uplift so far counts a lead not answered yet as not converted, so a look judged
    at once after a burst of leads would see rates near zero on both sides."""


class Journeys(Section):
    """Trial journeys (docs/journeys.md)."""

    max_trial_days: float = Field(92.0, gt=0)
    """The longest trial a journey may run: the journeys job keeps a trial start this long (processing time) to
    join the subscriber's usage with it, and refuses a journey with a longer trial."""
    usage_wait_minutes: float = Field(60.0, gt=0)
    """How long an hour of a subscriber's usage waits (processing time) for a trial start it may belong to."""


class RegionMetrics(Section):
    """The micro-region job (G3 coverage per micro-region and event-time window)."""

    window_minutes: int = Field(15, ge=1)
    """Length of the tumbling event-time windows (aligned to UTC); a window is emitted when the watermark passes
    its end."""
    min_subscribers: int = Field(5, ge=1)
    """Privacy: a region-window with fewer subscribers present is not published."""
