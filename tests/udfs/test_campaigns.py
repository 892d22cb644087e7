"""Campaign definitions (udfs/campaigns.py): every validation rule names the offending field, conditions
evaluate as documented, and every example campaign under campaigns/ is valid."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
import yaml

from touchpoint import ROOT
from udfs import trigger_kinds
from udfs.campaigns import Campaign, CampaignError, Condition, dynamic_fields, parse_campaign, static_fields

#: Every kind a campaign can name, with the default quota thresholds.
KINDS = trigger_kinds.names([20, 5, 0])

BASE = {
    "id": "mall-visit",
    "name": "Mall visitors",
    "status": "active",
    "start": "2026-11-01T00:00:00+08:00",
    "end": "2027-01-31T23:59:59+08:00",
    "trigger": {"kind": "region_entry", "params": {"region_kind": "mall"}},
    "audience": {
        "static": [{"field": "brand", "op": "in", "value": ["gotone", "mzone"]}],
        "dynamic": [{"field": "data_mb_24h", "op": "gte", "value": 10}],
    },
    "offer": {"id": "mall-coupon", "message": "Welcome to {region_name}, {brand} customer!"},
    "channels": ["sms", "wap_push"],
    "priority": 20,
    "cooldown_hours": 24,
    "daily_budget": 1000,
    "control_percent": 5,
}


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def with_(path: str, value, base=BASE) -> dict:
    """A copy of ``base`` with the dotted ``path`` (list indexes as numbers) set; value ``...`` deletes it."""
    obj = copy.deepcopy(base)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = obj
    for p in parents:
        node = node[p]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return obj


def error_field(obj) -> str:
    with pytest.raises(CampaignError) as e:
        parse_campaign(obj)
    assert str(e.value).startswith(f"{e.value.field}: ")  # the message leads with the field
    return e.value.field


def test_valid_campaign_parses_to_typed_fields():
    c = parse_campaign(BASE)
    assert isinstance(c, Campaign)
    assert (c.id, c.kind, c.status, c.priority) == ("mall-visit", "region_entry", "active", 20)
    assert c.offer_id == "mall-coupon"
    assert c.start_ms == ms("2026-10-31T16:00:00+00:00") and c.end_ms == ms("2027-01-31T15:59:59+00:00")
    assert c.params == (Condition("region_kind", "eq", "mall"),)
    assert c.static == (Condition("brand", "in", ["gotone", "mzone"]),)
    assert c.dynamic == (Condition("data_mb_24h", "gte", 10),)
    assert c.channels == ("sms", "wap_push")
    assert (c.cooldown_hours, c.daily_budget, c.control_percent) == (24.0, 1000, 5.0)


def test_optional_fields_default():
    minimal = {
        k: v for k, v in BASE.items() if k not in ("audience", "cooldown_hours", "daily_budget", "control_percent")
    }
    minimal = with_("trigger", {"kind": "dial_114"}, minimal)
    minimal = with_("offer.message", "Try 12580.", minimal)
    c = parse_campaign(minimal)
    assert (c.params, c.static, c.dynamic) == ((), (), ())
    assert (c.cooldown_hours, c.daily_budget, c.control_percent) == (0.0, None, 0.0)


# --- the JSON Schema: required, enum, types, unknown fields ----------------------------------------


@pytest.mark.parametrize(
    "path, value, field",
    [
        # required
        ("name", ..., "name"),
        ("trigger", ..., "trigger"),
        ("trigger.kind", ..., "trigger.kind"),
        ("offer.message", ..., "offer.message"),
        ("audience.static.0.value", ..., "audience.static[0].value"),
        # enum
        ("status", "running", "status"),
        ("trigger.kind", "teleport", "trigger.kind"),
        ("channels", ["sms", "fax"], "channels[1]"),
        ("audience.dynamic.0.op", "like", "audience.dynamic[0].op"),
        # types and bounds
        ("priority", "high", "priority"),
        ("priority", 1.5, "priority"),
        ("id", "Mall Visit", "id"),
        ("name", "", "name"),
        ("channels", [], "channels"),
        ("control_percent", 150, "control_percent"),
        ("cooldown_hours", -1, "cooldown_hours"),
        ("daily_budget", 2.5, "daily_budget"),
        ("trigger.params", ["region_kind"], "trigger.params"),
        ("start", 1793462400000, "start"),
        # unknown fields, at every level
        ("colour", "red", "colour"),
        ("trigger.region", "r1", "trigger.region"),
        ("offer.url", "http://x", "offer.url"),
        ("audience.everyone", True, "audience.everyone"),
        ("audience.static.0.negate", True, "audience.static[0].negate"),
    ],
)
def test_schema_rules_name_the_field(path, value, field):
    assert error_field(with_(path, value)) == field


def test_not_an_object():
    assert error_field(["a", "list"]) == "(campaign)"


def test_channels_must_not_repeat():
    assert error_field(with_("channels", ["sms", "mms", "sms"])) == "channels"


# --- variants -------------------------------------------------------------------------------------

VARIANTS = [
    {"id": "a"},
    {"id": "b", "offer": "mall-coupon-20", "message": "20% off in {region_name} today", "channel": "wap_push"},
    {"id": "c", "product": "mall_voucher"},
]


def test_variants_are_completed_from_the_campaign():
    c = parse_campaign(BASE | {"variants": VARIANTS, "selection": "adaptive"})
    a, b, v3 = c.variants
    assert (a.id, a.offer_id, a.product_id, a.message, a.channel) == (
        "a",
        "mall-coupon",
        "mall-coupon",
        BASE["offer"]["message"],
        "sms",
    )
    assert (b.offer_id, b.product_id, b.channel) == ("mall-coupon-20", "mall-coupon-20", "wap_push")
    assert (v3.offer_id, v3.product_id) == ("mall-coupon", "mall_voucher")
    assert c.selection == "adaptive"
    assert parse_campaign(BASE).variants == () and parse_campaign(BASE).selection == "even"


@pytest.mark.parametrize(
    "variants, selection, field",
    [
        ([], "even", "variants"),  # an empty list
        ([{"id": "a"}], "even", "variants"),  # one is no choice
        ([{"id": str(i)} for i in range(5)], "even", "variants"),  # more than 4
        ([{"id": "a"}, {"id": "a"}], "even", "variants[1].id"),
        ([{"id": "a"}, {"id": "b", "channel": "mms"}], "even", "variants[1].channel"),  # not the campaign's
        ([{"id": "a"}, {"id": "b", "message": "{nope}"}], "even", "variants[1].message"),
        ([{"id": "a"}, {"id": "b", "price": 1}], "even", "variants[1].price"),
        ([{"id": "a"}, {"offer": "x"}], "even", "variants[1].id"),
        ([{"id": "a"}, {"id": "b"}], "greedy", "selection"),
        (..., "adaptive", "selection"),  # adaptive chooses among variants
    ],
)
def test_bad_variants_are_refused_naming_the_field(variants, selection, field):
    obj = BASE | {"selection": selection} | ({} if variants is ... else {"variants": variants})
    assert error_field(obj) == field


# --- start / end ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, value",
    [
        ("start", "soon"),
        ("start", "2026-11-01"),  # no time
        ("start", "2026-11-01T00:00:00"),  # no UTC offset
        ("end", "2027-13-01T00:00:00+08:00"),
        ("end", "2026-11-01T00:00:00+08:00"),  # equal to start
        ("end", "2026-10-31T16:00:00Z"),  # the same instant as start, written in UTC
        ("end", "2026-10-31T23:59:59+08:00"),  # before start
    ],
)
def test_start_and_end(path, value):
    assert error_field(with_(path, value)) == path


def test_offsets_are_honoured():
    c = parse_campaign(with_("end", "2026-10-31T16:00:01Z"))  # one second after a +08:00 midnight start
    assert c.end_ms - c.start_ms == 1000
    assert parse_campaign(with_("start", "2026-11-01T00:00:00Z")).start_ms == ms("2026-11-01T08:00:00+08:00")
    # a space instead of the T is accepted (RFC 3339 allows it)
    assert parse_campaign(with_("start", "2026-11-01 00:00:00+08:00")).start_ms == parse_campaign(BASE).start_ms


# --- audience: field catalog, operator vs type, value domain, list operators -----------------------


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("audience.static.0.field", "colour", "audience.static[0].field"),
        ("audience.static.0.field", "data_mb_24h", "audience.static[0].field"),  # dynamic field in static
        ("audience.dynamic.0.field", "brand", "audience.dynamic[0].field"),  # static field in dynamic
        ("audience.dynamic.0.field", "data_mb_72h", "audience.dynamic[0].field"),  # no 72 h horizon
        ("audience.dynamic.0.field", "data_mb", "audience.dynamic[0].field"),
    ],
)
def test_field_catalog(path, value, field):
    assert error_field(with_(path, value)) == field


def test_catalogs():
    assert set(static_fields()) == {
        "brand",
        "plan",
        "arpu_band",
        "age_band",
        "data_quota_mb",
        "products",
        "g3_subscriber",
        "handset_brand",
        "handset_model",
        "handset_tier",
        "g3_capable",
        "tags",
    }
    assert "g3_data_share_1h" in dynamic_fields() and "hotline_dials_48h" in dynamic_fields()
    assert len(dynamic_fields()) == 15 * 4


def _static(field, op, value) -> dict:
    return with_("audience.static", [{"field": field, "op": op, "value": value}])


def _dynamic(field, op, value) -> dict:
    return with_("audience.dynamic", [{"field": field, "op": op, "value": value}])


@pytest.mark.parametrize(
    "cond",
    [
        ("products", "gte", 3),  # list field, numeric op
        ("products", "eq", "fetion"),
        ("g3_capable", "in", [True]),  # bool field: eq / ne only
        ("g3_capable", "gt", False),
        ("brand", "contains", "go"),  # string field, list op
        ("brand", "lt", "m"),
        ("tags", "in", ["roamer"]),
    ],
)
def test_operator_must_fit_static_type(cond):
    assert error_field(_static(*cond)) == "audience.static[0].op"


@pytest.mark.parametrize("op", ["contains", "contains_any", "not_contains"])
def test_operator_must_fit_dynamic_type(op):
    assert error_field(_dynamic("data_mb_24h", op, 1)) == "audience.dynamic[0].op"


@pytest.mark.parametrize(
    "cond",
    [
        ("brand", "eq", "vodafone"),  # enum from reference/profiles
        ("arpu_band", "in", ["high", "platinum"]),
        ("age_band", "ne", "16-17"),
        ("handset_tier", "eq", "ultra"),  # enum from reference/handsets
        ("tags", "contains", "astronaut"),  # the tag library
        ("tags", "contains_any", ["roamer", "astronaut"]),
        ("plan", "eq", 58),  # type of the value
        ("data_quota_mb", "gte", "100"),
        ("data_quota_mb", "eq", True),  # a bool is not a number
        ("g3_capable", "eq", "true"),
        ("g3_subscriber", "eq", 1),
        ("products", "contains", 12580),
        ("brand", "eq", None),
    ],
)
def test_static_value_domain(cond):
    assert error_field(_static(*cond)) == "audience.static[0].value"


@pytest.mark.parametrize("value", ["50", True, None, [50]])
def test_dynamic_value_is_a_number(value):
    assert error_field(_dynamic("data_mb_24h", "gte", value)) == "audience.dynamic[0].value"


@pytest.mark.parametrize(
    "cond",
    [
        ("brand", "in", "gotone"),  # in needs a list
        ("brand", "not_in", []),  # ... a non-empty one
        ("products", "contains", ["a", "b"]),  # contains takes one value
        ("products", "contains_any", []),
        ("products", "contains_any", ["fetion", 7]),
        ("products", "not_contains", ["fetion", None]),
    ],
)
def test_list_operators(cond):
    assert error_field(_static(*cond)) == "audience.static[0].value"


@pytest.mark.parametrize(
    "cond",
    [
        ("products", "contains_any", "fetion"),  # one value is fine for the any/none operators
        ("products", "not_contains", ["12580", "fetion"]),
        ("tags", "contains", "commuter"),
        ("data_quota_mb", "in", [0, 100]),
        ("g3_capable", "ne", False),
    ],
)
def test_valid_conditions(cond):
    assert parse_campaign(_static(*cond)).static == (Condition(*cond),)


def test_second_condition_is_named_by_index():
    obj = with_(
        "audience.dynamic",
        [{"field": "calls_1h", "op": "gte", "value": 1}, {"field": "sms_12h", "op": "gte", "value": "x"}],
    )
    assert error_field(obj) == "audience.dynamic[1].value"


# --- trigger params against the kind's context fields --------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"region_kind": "mall"}, (Condition("region_kind", "eq", "mall"),)),
        ({"region_kind": ["mall", "campus"]}, (Condition("region_kind", "in", ["mall", "campus"]),)),
        ({"region_id": {"not_in": ["r1"]}}, (Condition("region_id", "not_in", ["r1"]),)),
        ({}, ()),
    ],
)
def test_trigger_params_forms(params, expected):
    assert parse_campaign(with_("trigger.params", params)).params == expected


def test_trigger_params_numeric_operator():
    obj = with_("trigger", {"kind": "dwell", "params": {"dwell_minutes": {"gte": 30}}})
    assert parse_campaign(obj).params == (Condition("dwell_minutes", "gte", 30),)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"called_number": "114"}, "trigger.params.called_number"),  # not a region_entry context field
        ({"region": "r1"}, "trigger.params.region"),
        ({"region_id": {"gte": 1, "lte": 5}}, "trigger.params.region_id"),  # one operator per object
        ({"region_id": {"contains": "r"}}, "trigger.params.region_id"),
        ({"region_id": {}}, "trigger.params.region_id"),
        ({"region_id": []}, "trigger.params.region_id"),
        ({"region_id": {"in": "r1"}}, "trigger.params.region_id"),
    ],
)
def test_trigger_params_errors(params, field):
    assert error_field(with_("trigger.params", params)) == field


@pytest.mark.parametrize("spec", [{"gte": "30"}, {"gt": None}, {"lt": [30]}, {"lte": True}])
def test_trigger_params_comparison_needs_a_number(spec):
    # Accepting these crashes the decision job later: Condition.holds raises TypeError comparing 30 >= "30".
    obj = with_("trigger", {"kind": "dwell", "params": {"dwell_minutes": spec}})
    assert error_field(obj) == "trigger.params.dwell_minutes"


@pytest.mark.parametrize("kind", [*KINDS, "quota_10mb"])
def test_every_kind_accepts_its_own_context_fields(kind):
    context = trigger_kinds.spec(kind).context
    obj = with_("trigger", {"kind": kind, "params": {f: {"ne": None} for f in context}})
    obj = with_("offer.message", " ".join(f"{{{f}}}" for f in context), obj)
    assert len(parse_campaign(obj).params) == len(context)


@pytest.mark.parametrize("kind", ["teleport", "quota", "quota_mb", "quota_-5mb"])
def test_unknown_kind_is_named_with_the_known_ones(kind):
    with pytest.raises(
        CampaignError, match=r"unknown trigger kind .*; known: abnormal_usage, .*quota_<n>mb, region_entry"
    ) as e:
        parse_campaign(with_("trigger", {"kind": kind}))
    assert e.value.field == "trigger.kind"


# --- message placeholders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Hello {name}",  # not a message field
        "Call {called_number}",  # a dial_114 context field, not region_entry's
        "Hi {brand!r}",  # conversions are not allowed
        "Hi {brand:>10}",  # nor format specs
        "Hi {brand.upper}",  # nor attribute access
        "Hi {0}",
        "Hi {}",
        "Unbalanced { brace",
        "Unbalanced } brace",
    ],
)
def test_message_placeholders(message):
    assert error_field(with_("offer.message", message)) == "offer.message"


@pytest.mark.parametrize(
    "message",
    [
        "{brand} {plan} {handset_brand} {handset_model} {offer_id} {campaign_name} {msisdn_tail} {expires_local} "
        "{region_name}",
        "In {region_id} ({region_kind})",
        "Braces {{like this}}",
        "No placeholders at all",
    ],
)
def test_valid_messages(message):
    assert parse_campaign(with_("offer.message", message)).message == message


def test_first_error_is_the_shallowest():
    obj = with_("status", "running", with_("audience.static.0.op", "like"))
    assert error_field(obj) == "status"


# --- evaluation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, value, actual, holds",
    [
        ("eq", "gotone", "gotone", True),
        ("eq", "gotone", "mzone", False),
        ("ne", "gotone", "mzone", True),
        ("ne", "gotone", "gotone", False),
        ("eq", True, True, True),
        ("eq", False, True, False),
        ("in", ["a", "b"], "b", True),
        ("in", ["a", "b"], "c", False),
        ("not_in", ["a", "b"], "c", True),
        ("not_in", ["a", "b"], "a", False),
        ("gt", 10, 10.5, True),
        ("gt", 10, 10, False),
        ("gte", 10, 10, True),
        ("gte", 10, 9.99, False),
        ("lt", 10, 9, True),
        ("lt", 10, 10, False),
        ("lte", 10, 10, True),
        ("lte", 10, 11, False),
        ("gt", 0, True, False),  # a bool is not a number
        ("gte", 0, "5", False),  # nor a string
        ("contains", "fetion", ["fetion", "12580"], True),
        ("contains", "fetion", ["12580"], False),
        ("contains", "fetion", [], False),
        ("contains_any", ["a", "b"], ["x", "b"], True),
        ("contains_any", ["a", "b"], ["x"], False),
        ("contains_any", "a", ["a"], True),
        ("not_contains", "a", ["b"], True),
        ("not_contains", "a", ["a", "b"], False),
        ("not_contains", ["a", "b"], ["c"], True),
        ("not_contains", ["a", "b"], ["b"], False),
        ("not_contains", "a", [], True),
    ],
)
def test_condition_holds(op, value, actual, holds):
    assert Condition("f", op, value).holds(actual) is holds


@pytest.mark.parametrize(
    "op, value",
    [
        ("eq", None),
        ("eq", "x"),
        ("ne", "x"),
        ("in", ["x"]),
        ("not_in", ["x"]),
        ("gt", 0),
        ("gte", 0),
        ("lt", 0),
        ("lte", 0),
        ("contains", "x"),
        ("contains_any", ["x"]),
        ("not_contains", "x"),
    ],
)
def test_unknown_value_never_holds(op, value):
    assert Condition("f", op, value).holds(None) is False


def test_active_window_and_status():
    c = parse_campaign(BASE)
    assert not c.active_at(c.start_ms - 1) and c.active_at(c.start_ms) and c.active_at(c.end_ms - 1)
    assert not c.active_at(c.end_ms)
    assert not parse_campaign(with_("status", "paused")).active_at(c.start_ms)
    assert not parse_campaign(with_("status", "ended")).active_at(c.start_ms)


def test_trigger_matches_kind_and_params():
    c = parse_campaign(with_("trigger.params", {"region_kind": "mall", "region_id": ["r1", "r2"]}))
    assert c.trigger_matches("region_entry", {"region_kind": "mall", "region_id": "r2"})
    assert not c.trigger_matches("region_entry", {"region_kind": "campus", "region_id": "r2"})
    assert not c.trigger_matches("region_entry", {"region_kind": "mall", "region_id": "r3"})
    assert not c.trigger_matches("region_entry", {"region_kind": "mall"})  # missing field: no match
    assert not c.trigger_matches("dwell", {"region_kind": "mall", "region_id": "r1"})


def test_render_fills_blanks_for_unknown_and_null():
    c = parse_campaign(with_("offer.message", "Hi {brand}, welcome to {region_name}{region_id}. {{ok}}"))
    assert c.render({"brand": "gotone", "region_name": None}) == "Hi gotone, welcome to . {ok}"


# --- the example campaigns ------------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "campaigns").glob("*.yaml"))


def test_examples_exist():
    ids = {p.stem for p in EXAMPLES}
    assert {"dial-114-12580", "quota-0mb-topup", "campus-g3-association", "mall-entry-shop"} <= ids
    kinds = {yaml.safe_load(p.read_text())["trigger"]["kind"] for p in EXAMPLES}
    assert kinds == set(KINDS) - {"roam_in"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_campaign_is_valid(path):
    from touchpoint.clients.campaigns import load_file

    (obj,) = load_file(path)  # the CLI's loader: YAML timestamps stay strings
    c = parse_campaign(obj)
    assert c.id == path.stem, "one campaign per file, named after its id"
    assert c.status == "active" and 5 <= c.control_percent <= 10
    assert (obj["start"], obj["end"]) == ("2026-11-01T00:00:00+08:00", "2027-01-31T23:59:59+08:00")
    assert path.read_text().lstrip().startswith("#"), "a comment explains the marketing idea"


def test_schema_example_is_valid():
    parse_campaign(json.loads((ROOT / "schemas" / "examples" / "campaigns.json").read_text()))
