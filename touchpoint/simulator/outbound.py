"""The outbound systems and the customers' answers, simulated: leads in, ``outcomes`` and ``orders`` out.

Touchpoint's job ends at the lead topic; SMS gateways, call centres and shops report what happened. Locally
nothing does, so the demo uses this stand-in to close the loop for the campaign funnel (triggers → leads →
delivered → converted) and the control-group comparison. Deterministic per lead (hash of the lead id).

- a treatment lead is ``delivered`` with probability ``simulator.delivery_rate``, at ``deliver_at`` + a few
  seconds, and a delivered lead ``converted`` with ``conversion_rate`` some minutes later, with an order of the
  offer carrying the lead id;
- a control lead is never delivered; it ``converted`` with ``control_conversion_rate`` (the customer bought
  anyway), so the dashboards can show the uplift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from touchpoint.config import Settings
from udfs.units import HOUR_MS, MINUTE_MS


def _draw(lead_id: str, what: str) -> float:
    """A uniform number in [0, 1) fixed by the lead and the question asked."""
    return int(hashlib.sha1(f"{what}|{lead_id}".encode()).hexdigest()[:8], 16) / 2**32


def outcomes(settings: Settings, leads: Iterable[dict]) -> Iterator[tuple[str, dict]]:
    """(topic key, record) pairs: ``outcomes`` records and the ``orders`` of converted leads."""
    sim = settings.simulator
    for lead in leads:
        lid, base = (
            lead["lead_id"],
            {
                "lead_id": lead["lead_id"],
                "trigger_id": lead["trigger_id"],
                "msisdn": lead["msisdn"],
                "campaign_id": lead["campaign_id"],
            },
        )
        t = lead["deliver_at"]
        if not lead["control"]:
            if _draw(lid, "delivered") >= sim.delivery_rate:
                continue
            t += 2_000 + int(_draw(lid, "delay") * 8_000)
            yield "outcomes", base | {"outcome_id": f"o-{lid[2:]}-delivered", "status": "delivered", "ts": t}
        rate = sim.control_conversion_rate if lead["control"] else sim.conversion_rate
        if _draw(lid, "converted") >= rate:
            continue
        t += MINUTE_MS + int(_draw(lid, "think") * HOUR_MS)
        order_id = f"ord-{lid[2:]}"
        yield (
            "outcomes",
            base | {"outcome_id": f"o-{lid[2:]}-converted", "status": "converted", "ts": t, "order_id": order_id},
        )
        yield (
            "orders",
            {
                "order_id": order_id,
                "ts": t,
                "msisdn": lead["msisdn"],
                "product_id": lead["offer_id"],
                "product_kind": "value_added",
                "action": "subscribe",
                "channel": lead["channel"],
                "lead_id": None if lead["control"] else lid,
            },
        )
