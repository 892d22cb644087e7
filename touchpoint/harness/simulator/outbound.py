"""The outbound systems and the customers' answers, simulated: leads in, delivery ``outcomes`` and ``orders`` out.

Touchpoint's job ends at the lead topic; SMS gateways, call centres and shops report what happened, and BOSS
records what customers buy. Locally nothing does, so the demo and the tests use this stand-in to close the loop
(triggers → leads → delivered → orders), with a known effect for the effect tracking to measure
(docs/effect.md). Deterministic per lead (hash of the lead id).

- a treatment lead is ``delivered`` with probability ``simulator.delivery_rate``, at ``deliver_at`` + a few
  seconds; a control lead never is;
- every customer buys the lead's product anyway with the base rate ``control_conversion_rate``; a delivered offer
  adds its variant's uplift (``variant_uplift``), else its campaign's (``campaign_uplift``), else ``uplift``; an
  uplift below zero is an offer that puts customers off (the guardrail's case);
- a purchase is an order of the lead's product a minute to ``answer_hours`` (a day) after ``deliver_at`` (within
  any attribution window); after a delivered offer it names the lead with ``order_names_lead_rate`` (a reply to the
  SMS), else it names none, like a BOSS order.

So the true uplift of a campaign over all its treatment leads (delivered or not) is ``delivery_rate`` × its uplift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from touchpoint.config import Settings
from touchpoint.harness.simulator.city import CATALOGUE
from udfs.units import HOUR_MS, MINUTE_MS


def _draw(lead_id: str, what: str) -> float:
    """A uniform number in [0, 1) fixed by the lead and the question asked."""
    return int(hashlib.sha1(f"{what}|{lead_id}".encode()).hexdigest()[:8], 16) / 2**32


def true_uplift(settings: Settings, campaign_id: str, variant_id: str | None = None) -> float:
    """What a delivered offer of the campaign (and variant) adds to the base conversion rate."""
    sim = settings.simulator
    campaign = sim.campaign_uplift.get(campaign_id, sim.uplift)
    return sim.variant_uplift.get(campaign_id, {}).get(variant_id or "", campaign)


def outcomes(settings: Settings, leads: Iterable[dict]) -> Iterator[tuple[str, dict]]:
    """(topic key, record) pairs: delivery ``outcomes`` records and the ``orders`` of customers who buy."""
    sim = settings.simulator
    for lead in leads:
        lid = lead["lead_id"]
        t = lead["deliver_at"]
        delivered = not lead["control"] and _draw(lid, "delivered") < sim.delivery_rate
        if delivered:
            t += 2_000 + int(_draw(lid, "delay") * 8_000)
            yield (
                "outcomes",
                {
                    "outcome_id": f"o-{lid[2:]}-delivered",
                    "lead_id": lid,
                    "trigger_id": lead["trigger_id"],
                    "msisdn": lead["msisdn"],
                    "campaign_id": lead["campaign_id"],
                    "status": "delivered",
                    "ts": t,
                },
            )
        added = true_uplift(settings, lead["campaign_id"], lead.get("variant_id")) if delivered else 0
        rate = sim.control_conversion_rate + added
        if _draw(lid, "converted") >= rate:
            continue
        t += MINUTE_MS + int(_draw(lid, "think") * sim.answer_hours * HOUR_MS)
        names_lead = delivered and _draw(lid, "reply") < sim.order_names_lead_rate
        product = lead["product_id"]
        yield (
            "orders",
            {
                "order_id": f"ord-{lid[2:]}",
                "ts": t,
                "msisdn": lead["msisdn"],
                "product_id": product,
                "product_kind": CATALOGUE[product][1] if product in CATALOGUE else "value_added",
                "action": "subscribe",
                "channel": lead["channel"],
                "lead_id": lid if names_lead else None,
            },
        )
