"""The simulated outbound systems and customers: control leads are never delivered, records follow the schemas,
customers buy at the base rate plus the campaign's uplift when the offer reached them."""

from touchpoint.config import load_settings
from touchpoint.harness.simulator.outbound import outcomes, true_uplift
from touchpoint.schemas import errors


def _lead(i: int, control: bool, campaign: str = "c") -> dict:
    return {
        "lead_id": f"l-{i:020x}",
        "trigger_id": f"t-{i}",
        "msisdn": f"1390000{i:04d}",
        "campaign_id": campaign,
        "offer_id": "o",
        "product_id": "data_package_50",
        "channel": "sms",
        "deliver_at": 1_794_000_000_000 + i,
        "attribution_until": 1_794_000_000_000 + i + 7 * 86_400_000,
        "control": control,
    }


def test_answers_follow_the_model_and_never_deliver_control_leads():
    settings = load_settings(simulator={"campaign_uplift": {"big": 0.3}})
    sim = settings.simulator
    treatment = [_lead(i, False) for i in range(6000)]
    control = [_lead(i, True) for i in range(6000, 12000)]
    big = [_lead(i, False, "big") for i in range(12000, 15000)]
    leads = treatment + control + big
    out = list(outcomes(settings, leads))
    assert out == list(outcomes(settings, leads))  # deterministic
    assert all(errors(topic, r) == [] for topic, r in out)
    delivered = {r["lead_id"] for t, r in out if t == "outcomes" and r["status"] == "delivered"}
    assert {t for t, _ in out} == {"outcomes", "orders"}  # conversions are the effect job's to find
    bought = {f"l-{r['order_id'][4:]}": r for t, r in out if t == "orders"}

    def rate(group):
        return sum(x["lead_id"] in bought for x in group) / len(group)

    assert not delivered & {x["lead_id"] for x in control}
    assert abs(len(delivered & {x["lead_id"] for x in treatment}) / 6000 - sim.delivery_rate) < 0.015
    reached = [x for x in treatment if x["lead_id"] in delivered]
    missed = [x for x in treatment if x["lead_id"] not in delivered]
    assert abs(rate(control) - sim.control_conversion_rate) < 0.01
    assert abs(rate(missed) - sim.control_conversion_rate) < 0.05  # ~300 leads
    assert abs(rate(reached) - sim.control_conversion_rate - sim.uplift) < 0.015
    assert true_uplift(settings, "big") == 0.3
    assert abs(rate([x for x in big if x["lead_id"] in delivered]) - sim.control_conversion_rate - 0.3) < 0.03
    # an order buys the lead's product within its window; after a delivered offer, about half name the lead
    for lid, order in bought.items():
        lead = next(x for x in leads if x["lead_id"] == lid) if order["lead_id"] else None
        assert order["product_id"] == "data_package_50" and order["product_kind"] == "data_package"
        assert order["lead_id"] in (None, lid) and (order["lead_id"] is None or lid in delivered)
        assert lead is None or lead["deliver_at"] <= order["ts"] <= lead["attribution_until"]
    naming = [o for lid, o in bought.items() if lid in delivered]
    assert abs(sum(o["lead_id"] is not None for o in naming) / len(naming) - sim.order_names_lead_rate) < 0.07
