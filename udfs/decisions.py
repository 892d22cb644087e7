"""One trigger in, decisions out: which campaign (if any) gets a lead, and why the others did not.

:func:`decide` is the whole rule path of the decision job, in plain Python. The job keeps, per subscriber,
the profile, the hourly behaviour buckets and a :class:`~udfs.contact_policy.Contacts` record, and calls it
once per trigger in event-time order. The checks, in order (docs/decisions.md):

1. campaigns whose trigger kind and params match; none → nothing is recorded;
2. ``campaign_inactive`` (paused, ended, outside start/end), ``paused_by_guardrail`` (the effect job paused it:
   its uplift interval lies wholly below zero);
3. per subscriber: ``no_profile``, ``no_consent``, ``no_location_consent`` (location kinds),
   ``do_not_disturb``;
4. per campaign: ``audience`` (first failing condition in ``detail``), ``cooldown``;
5. the highest priority wins (ties: lowest id), the rest are ``lower_priority``;
6. the winner: ``contact_cap``, then ``quiet_hours`` (deferred to the end of quiet hours when the lead is
   still valid then, else suppressed); a control-group member gets a lead marked ``control``.

The daily budget is global per campaign, so the job applies it afterwards, keyed by campaign, to the decision
records (:func:`charge_daily_budget`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from udfs import journeys, variants
from udfs.behaviour import Behaviour, Bucket, rollup
from udfs.campaigns import Campaign
from udfs.contact_policy import (
    Contacts,
    Policy,
    decision_id,
    in_control_group,
    in_holdout,
    lead_id,
    local_day,
    local_time,
    next_allowed,
    subscriber_block,
)
from udfs.tags import is_g3_subscriber, tags
from udfs.units import HOUR_MS


@dataclass
class Decision:
    """One (trigger, campaign) outcome: a lead, a control lead, or a suppression with its reason."""

    trigger: dict[str, Any]
    campaign: Campaign
    result: str  # lead | control | suppressed
    reason: str | None = None
    detail: str | None = None
    deliver_at: int | None = None
    lead: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return decision_id(self.trigger["trigger_id"], self.campaign.id)

    def suppress(self, reason: str, detail: str | None = None) -> None:
        self.result, self.reason, self.detail, self.lead, self.deliver_at = "suppressed", reason, detail, None, None

    def record(self, decided_at: int) -> dict[str, Any]:
        """The ``decisions`` topic record (schemas/decisions.schema.json)."""
        t = self.trigger
        out = {
            "decision_id": self.id,
            "trigger_id": t["trigger_id"],
            "trigger_kind": t["kind"],
            "msisdn": t["msisdn"],
            "campaign_id": self.campaign.id,
            "trigger_ts": t["ts"],
            "decided_at": decided_at,
            "result": self.result,
        }
        for k in ("reason", "detail", "deliver_at"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.lead is not None:
            out["lead_id"] = self.lead["lead_id"]
        return out


@dataclass(frozen=True)
class Reference:
    """Reference data the rules look up locally: handsets by TAC, regions by id."""

    handsets: Mapping[str, dict[str, Any]]
    regions: Mapping[str, dict[str, Any]]


def subscriber_fields(
    profile: dict | None, handset: dict | None, behaviour: Behaviour, ref: Reference, tag_settings
) -> dict[str, Any]:
    """The static audience fields of udfs.campaigns.static_fields() for one subscriber."""
    p = profile or {}
    kinds = {ref.regions[r]["kind"] for r in behaviour.regions_24h if r in ref.regions}
    h = handset or {}
    return {
        "brand": p.get("brand"),
        "plan": p.get("plan"),
        "arpu_band": p.get("arpu_band"),
        "age_band": p.get("age_band"),
        "data_quota_mb": p.get("data_quota_mb"),
        "products": (p.get("products") or []) if profile else None,
        "g3_subscriber": is_g3_subscriber(profile),
        "handset_brand": h.get("brand"),
        "handset_model": h.get("model"),
        "handset_tier": h.get("tier"),
        "g3_capable": h.get("g3_capable"),
        "tags": tags(profile, handset, behaviour.totals, kinds, tag_settings),
    }


def _failing(conditions, values: dict[str, Any]) -> str | None:
    for c in conditions:
        if not c.holds(values.get(c.field)):
            return f"{c.field} {c.op} {c.value!r} (is {values.get(c.field)!r})"
    return None


def decide(
    trigger: dict[str, Any],
    campaigns: list[Campaign],
    profile: dict | None,
    buckets: dict[int, Bucket],
    contacts: Contacts,
    policy: Policy,
    ref: Reference,
    tag_settings,
    variant_counts: Mapping[str, Mapping[str, variants.Counts]] | None = None,
    paused: Mapping[str, str] | None = None,
) -> list[Decision]:
    """Decide one trigger (updates ``contacts``). A trigger id seen before yields nothing (redelivery).
    ``variant_counts``: campaign id -> variant id -> its counts so far, for adaptive selection; ``paused``:
    campaign id -> why the guardrail paused it."""
    kind, ts, ctx = trigger["kind"], trigger["ts"], trigger.get("context") or {}
    if kind == journeys.STEP_KIND:  # a trial journey's step carries its own campaign (udfs/journeys.py)
        campaigns = [journeys.step_campaign(ctx)]
    matching = sorted((c for c in campaigns if c.trigger_matches(kind, ctx)), key=lambda c: (-c.priority, c.id))
    if not matching or trigger["trigger_id"] in contacts.decided:
        return []
    decisions = [Decision(trigger, c, "lead") for c in matching]
    live = []
    for d in decisions:
        if not d.campaign.active_at(ts):
            d.suppress("campaign_inactive", d.campaign.status if d.campaign.status != "active" else "outside start/end")
        elif paused and d.campaign.id in paused:
            d.suppress("paused_by_guardrail", paused[d.campaign.id])
        else:
            live.append(d)
    contacts.record(trigger["trigger_id"], ts)
    if not live:
        return decisions

    reason = subscriber_block(profile, kind, policy)
    if reason:
        for d in live:
            d.suppress(reason)
        return decisions

    behaviour = rollup(buckets, ts)
    tac = ctx.get("new_tac") if kind == "handset_change" else None
    handset = ref.handsets.get(tac or behaviour.last_tac or "")
    static = subscriber_fields(profile, handset, behaviour, ref, tag_settings)
    eligible = []
    for d in live:
        c = d.campaign
        failed = _failing(c.static, static) or _failing(c.dynamic, behaviour.totals)
        if failed:
            d.suppress("audience", failed)
        elif contacts.in_cooldown(c.id, c.cooldown_hours, ts):
            d.suppress("cooldown", f"last lead at {contacts.last_lead[c.id]}")
        else:
            eligible.append(d)
    if not eligible:
        return decisions
    winner, *others = eligible
    for d in others:
        d.suppress("lower_priority", winner.campaign.id)

    c = winner.campaign
    holdout = in_holdout(trigger["msisdn"], policy.holdout_percent)
    control = holdout or in_control_group(trigger["msisdn"], c.id, c.control_percent)
    deliver_at = next_allowed(ts, policy)
    expires_at = ts + policy.lead_validity_ms
    if contacts.cap_reached(ts, policy):
        winner.suppress("contact_cap", f"{policy.max_leads} leads in {policy.window_ms // HOUR_MS} h")
    elif deliver_at >= expires_at:
        winner.suppress("quiet_hours", "expires before quiet hours end")
    else:
        winner.result = "control" if control else "lead"
        winner.deliver_at = deliver_at
        if deliver_at > ts:
            winner.reason = "deferred_quiet_hours"
        counts = (variant_counts or {}).get(c.id, {})
        winner.lead = _lead(
            trigger, c, profile, handset, ctx, ref, policy, control, deliver_at, expires_at, holdout, counts
        )
        contacts.record(trigger["trigger_id"], ts, c.id, delivered=not control)
    return decisions


def _lead(
    trigger,
    c: Campaign,
    profile,
    handset,
    ctx,
    ref: Reference,
    policy: Policy,
    control: bool,
    deliver_at: int,
    expires_at: int,
    holdout: bool = False,
    counts: Mapping[str, variants.Counts] | None = None,
) -> dict[str, Any]:
    region = ref.regions.get(ctx.get("region_id") or "")
    values = dict(ctx) | {
        "brand": profile.get("brand"),
        "plan": profile.get("plan"),
        "handset_brand": (handset or {}).get("brand"),
        "handset_model": (handset or {}).get("model"),
        "offer_id": c.offer_id,
        "campaign_name": c.name,
        "msisdn_tail": trigger["msisdn"][-4:],
        "expires_local": local_time(expires_at, policy.timezone).strftime("%Y-%m-%d %H:%M"),
        "region_name": region["name"] if region else None,
    }
    if "trial_end" in ctx:  # a journey step
        values["trial_end_local"] = local_time(ctx["trial_end"], policy.timezone).strftime("%Y-%m-%d")
    reasons = [f"trigger:{trigger['kind']}", f"priority:{c.priority}"]
    reasons += [f"audience:{x.field} {x.op} {x.value}" for x in c.static + c.dynamic]
    if deliver_at > trigger["ts"]:
        reasons.append("deferred:quiet_hours")
    if holdout:
        reasons.append("holdout")
    elif control:
        reasons.append("control_group")
    lid = lead_id(trigger["msisdn"], c.id, trigger["trigger_id"])
    # a treatment lead gets one of the campaign's variants; a control lead names them all, as it is the control
    # of each (docs/variants.md)
    variant = variants.choose(c, lid, counts or {}, policy.variant_floor) if c.variants and not control else None
    channels = [variant.channel, *(x for x in c.channels if x != variant.channel)] if variant else list(c.channels)
    lead = {
        "lead_id": lid,
        "msisdn": trigger["msisdn"],
        "campaign_id": c.id,
        "offer_id": variant.offer_id if variant else c.offer_id,
        "product_id": variant.product_id if variant else c.product_id,
        "channel": channels[0],
        "channels": channels,
        "message": c.render(values | ({"offer_id": variant.offer_id} if variant else {}), variant and variant.message),
        "trigger_id": trigger["trigger_id"],
        "trigger_kind": trigger["kind"],
        "trigger_ts": trigger["ts"],
        "deliver_at": deliver_at,
        "expires_at": expires_at,
        "attribution_until": deliver_at
        + (round(c.attribution_days * 24 * HOUR_MS) if c.attribution_days else policy.attribution_ms),
        "control": control,
        "holdout": holdout,
        "reasons": reasons,
    }
    if variant:
        lead["variant_id"] = variant.id
        reasons.append(f"variant:{variant.id} ({c.selection})")
        if c.selection == "adaptive":  # what the draw saw: with the lead id, enough to draw it again
            lead["variant_counts"] = {v.id: (counts or {}).get(v.id, variants.NO_COUNTS).record() for v in c.variants}
    elif c.variants:
        lead["variant_ids"] = [v.id for v in c.variants]
    if trigger["kind"] == journeys.STEP_KIND:
        lead["step"] = ctx["step"]
    return lead


def charge_daily_budget(
    spent: dict[str, int], budget: int | None, record: dict[str, Any], lead: dict[str, Any] | None, tz: str
) -> dict[str, Any] | None:
    """The daily budget of one campaign, applied to one of its decisions (``record``: the ``decisions`` topic
    record); the job keeps ``spent`` (local day -> delivered leads) per campaign, keyed by campaign id, so the
    budget is global. A delivered lead counts against the local day of its trigger; once the day's budget is
    spent the record becomes ``suppressed`` / ``budget`` (in place) and its lead is dropped. Control leads and
    suppressions cost nothing. Returns the lead to emit (None: no lead)."""
    if record["result"] != "lead" or budget is None:
        return lead
    day = local_day(record["trigger_ts"], tz)
    if spent.get(day, 0) >= budget:
        record.update(result="suppressed", reason="budget", detail=f"{budget} leads on {day}")
        for key in ("deliver_at", "lead_id"):
            record.pop(key, None)
        return None
    spent[day] = spent.get(day, 0) + 1
    for old in [d for d in spent if d < _days_before(day, BUDGET_DAYS_KEPT)]:  # bounded: a week, not every day
        del spent[old]
    return lead


#: Days of delivered-lead counts a campaign's budget keeps: a decision reaches the budget minutes after its
#: trigger, so older days are never charged again.
BUDGET_DAYS_KEPT = 7


def _days_before(day: str, n: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=n)).isoformat()


def decide_in_order(
    triggers: Iterable[dict[str, Any]],
    campaigns: list[Campaign],
    profiles: Mapping[str, dict],
    buckets: Mapping[str, dict[int, tuple]],
    policy: Policy,
    ref: Reference,
    tag_settings,
    variant_counts: Mapping[str, Mapping[str, variants.Counts]] | None = None,
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every trigger in ts order (then id) through the rules, with all behaviour and profiles at hand and every
    campaign's daily budget charged: what a replay of the decision job decides, without Flink (the job's
    reference in tests, and ``touchpoint campaigns backtest``). ``buckets``: msisdn -> hour -> compact bucket.
    Returns (decisions record, lead or None) per decision, in order."""
    contacts: dict[str, Contacts] = {}
    budgets: dict[str, dict[str, int]] = {}
    out = []
    for trig in sorted(triggers, key=lambda x: (x["ts"], x["trigger_id"])):
        m = trig["msisdn"]
        for d in decide(
            trig,
            campaigns,
            profiles.get(m),
            buckets.get(m, {}),
            contacts.setdefault(m, Contacts()),
            policy,
            ref,
            tag_settings,
            variant_counts,
        ):
            record = d.record(0)
            lead = charge_daily_budget(
                budgets.setdefault(d.campaign.id, {}), d.campaign.daily_budget, record, d.lead, policy.timezone
            )
            out.append((record, lead))
    return out
