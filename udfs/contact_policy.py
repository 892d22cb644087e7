"""Contact policy: the rules every decision obeys (docs/decisions.md), as small pure functions and one record
of a subscriber's contacts. The decision job applies them in the order of docs/decisions.md.

Times are the trigger's event time (ms, UTC), so a replay and a live run decide alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from udfs.units import HOUR_MS


@dataclass(frozen=True)
class Policy:
    """The ``decisions`` settings in the units the rules use."""

    timezone: str = "Asia/Shanghai"
    lead_validity_ms: int = 48 * HOUR_MS
    max_leads: int = 3
    window_ms: int = 48 * HOUR_MS
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    location_kinds: frozenset[str] = frozenset()
    #: default attribution window of a lead (a campaign may set its own)
    attribution_ms: int = 7 * 24 * HOUR_MS
    #: share (percent) of subscribers in the global holdout
    holdout_percent: float = 0.0
    #: adaptive selection: the least share (a fraction) of a campaign's treatment leads each variant is offered to
    variant_floor: float = 0.0

    @classmethod
    def from_settings(cls, d) -> Policy:
        return cls(
            d.timezone,
            round(d.lead_validity_hours * HOUR_MS),
            d.max_leads_per_subscriber,
            round(d.contact_window_hours * HOUR_MS),
            d.quiet_start,
            d.quiet_end,
            frozenset(d.location_kinds),
            round(d.attribution_days * 24 * HOUR_MS),
            d.holdout_percent,
            d.variant_floor_percent / 100,
        )


def local_time(ts: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ts / 1000, ZoneInfo(tz))


def in_quiet_hours(ts: int, p: Policy) -> bool:
    t = local_time(ts, p.timezone).time()
    if p.quiet_start == p.quiet_end:
        return False
    if p.quiet_start < p.quiet_end:
        return p.quiet_start <= t < p.quiet_end
    return t >= p.quiet_start or t < p.quiet_end  # wraps midnight


def next_allowed(ts: int, p: Policy) -> int:
    """``ts`` itself outside quiet hours, else the end of the quiet period (local time)."""
    if not in_quiet_hours(ts, p):
        return ts
    local = local_time(ts, p.timezone)
    end = local.replace(
        hour=p.quiet_end.hour, minute=p.quiet_end.minute, second=p.quiet_end.second, microsecond=p.quiet_end.microsecond
    )
    if end <= local:
        end += timedelta(days=1)
    return int(end.timestamp() * 1000)


def local_day(ts: int, tz: str) -> str:
    """The budget day of a moment: its local calendar date."""
    return local_time(ts, tz).date().isoformat()


def _hash(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by ``parts``: the same parts, the same number, on any machine."""
    return int(_hash(*parts)[:13], 16) / 16**13


def in_control_group(msisdn: str, campaign_id: str, percent: float) -> bool:
    """Stable hold-out: the same subscriber is always (or never) in a campaign's control group."""
    if percent <= 0:
        return False
    return int(_hash("control", campaign_id, msisdn)[:8], 16) % 10_000 < percent * 100


def in_holdout(msisdn: str, percent: float) -> bool:
    """The global holdout: a stable share of subscribers who get no marketing at all (every lead of theirs is a
    control lead), against whom the whole programme's uplift is measured (docs/effect.md)."""
    if percent <= 0:
        return False
    return int(_hash("holdout", msisdn)[:8], 16) % 10_000 < percent * 100


#: The reasons decided before a campaign's audience is looked at: the campaign is not running, or the subscriber
#: may not be marketed to (:func:`subscriber_block`; tests/udfs/test_decisions.py holds the two equal). The decision
#: job tests the subscriber for every trigger; a trial journey (udfs/journeys.py) to tell why a trial did not convert.
BEFORE_AUDIENCE = (
    "campaign_inactive",
    "paused_by_guardrail",
    "no_profile",
    "no_consent",
    "no_location_consent",
    "do_not_disturb",
)


def subscriber_block(profile: dict | None, kind: str, policy: Policy) -> str | None:
    if profile is None:
        return "no_profile"
    if not profile.get("consent_marketing"):
        return "no_consent"
    if kind in policy.location_kinds and not profile.get("consent_location"):
        return "no_location_consent"
    if profile.get("do_not_disturb"):
        return "do_not_disturb"
    return None


def lead_id(msisdn: str, campaign_id: str, trigger_id: str) -> str:
    """Deterministic: a redelivered trigger yields the same id, so consumers can de-duplicate."""
    return "l-" + _hash(msisdn, campaign_id, trigger_id)[:20]


def decision_id(trigger_id: str, campaign_id: str) -> str:
    return "d-" + _hash(trigger_id, campaign_id)[:20]


@dataclass
class Contacts:
    """One subscriber's contact record, kept in the decision job's keyed state."""

    #: trigger ts of each delivered (non-control) lead inside the window
    leads: list[int] = field(default_factory=list)
    #: campaign id -> trigger ts of its last lead to this subscriber (control leads included)
    last_lead: dict[str, int] = field(default_factory=dict)
    #: trigger ids already decided -> their ts (a redelivered trigger is ignored)
    decided: dict[str, int] = field(default_factory=dict)

    def cap_reached(self, ts: int, p: Policy) -> bool:
        """Whether a lead at ``ts`` would put some contact window over the cap. In ts order that is the window
        ending at ``ts``; a trigger decided after later ones (a backlog read unevenly, a redelivery) also checks
        the windows that end at those later leads, so the cap holds whatever order the triggers came in."""
        ends = [ts, *(t for t in self.leads if ts < t < ts + p.window_ms)]
        return any(sum(1 for t in self.leads if end - p.window_ms < t <= end) >= p.max_leads for end in ends)

    def in_cooldown(self, campaign_id: str, cooldown_hours: float, ts: int) -> bool:
        last = self.last_lead.get(campaign_id)
        return last is not None and ts - last < cooldown_hours * HOUR_MS

    def record(self, trigger_id: str, ts: int, campaign_id: str | None = None, delivered: bool = False) -> None:
        self.decided[trigger_id] = ts
        if campaign_id is not None:
            self.last_lead[campaign_id] = max(ts, self.last_lead.get(campaign_id, ts))
        if delivered:
            self.leads.append(ts)

    def prune(self, now: int, keep_ms: int) -> None:
        """Forget what no rule can look at any more (older than ``keep_ms`` before ``now``)."""
        horizon = now - keep_ms
        self.leads = [t for t in self.leads if t > horizon]
        self.last_lead = {c: t for c, t in self.last_lead.items() if t > horizon}
        self.decided = {k: t for k, t in self.decided.items() if t > horizon}
