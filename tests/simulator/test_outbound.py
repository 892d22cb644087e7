"""The simulated outbound systems: control leads are never delivered, records follow the schemas, rates hold."""

from touchpoint.config import load_settings
from touchpoint.schemas import errors
from touchpoint.simulator.outbound import outcomes


def _lead(i: int, control: bool) -> dict:
    return {
        "lead_id": f"l-{i:020x}",
        "trigger_id": f"t-{i}",
        "msisdn": f"1390000{i:04d}",
        "campaign_id": "c",
        "offer_id": "o",
        "channel": "sms",
        "deliver_at": 1_794_000_000_000 + i,
        "control": control,
    }


def test_outcomes_follow_the_rates_and_never_deliver_control_leads():
    settings = load_settings()
    treatment = [_lead(i, False) for i in range(4000)]
    control = [_lead(i, True) for i in range(4000, 8000)]
    out = list(outcomes(settings, treatment + control))
    assert out == list(outcomes(settings, treatment + control))  # deterministic
    assert all(errors(topic, r) == [] for topic, r in out)

    def status(ids, s):
        return sum(1 for t, r in out if t == "outcomes" and r["status"] == s and r["lead_id"] in ids)

    t_ids, c_ids = {x["lead_id"] for x in treatment}, {x["lead_id"] for x in control}
    assert status(c_ids, "delivered") == 0
    assert abs(status(t_ids, "delivered") / 4000 - settings.simulator.delivery_rate) < 0.02
    delivered = status(t_ids, "delivered")
    assert abs(status(t_ids, "converted") / delivered - settings.simulator.conversion_rate) < 0.02
    assert abs(status(c_ids, "converted") / 4000 - settings.simulator.control_conversion_rate) < 0.01
    orders = [r for t, r in out if t == "orders"]
    assert len(orders) == status(t_ids | c_ids, "converted")
    assert all((r["lead_id"] is None) == (r["msisdn"] >= "13900004000") for r in orders)
