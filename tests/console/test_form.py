"""The editor's form from the JSON Schemas: every example campaign and journey survives definition -> form text ->
definition unchanged; what the user typed is kept as typed; empty rows are dropped and the rest numbered as the
validators will name them; each error lands beside the field it names."""

from __future__ import annotations

import pytest

from touchpoint import ROOT
from touchpoint.clients.campaigns import load
from touchpoint.console import form as forms
from touchpoint.console.definitions import KINDS, problems

EXAMPLES = [(kind, item.record) for kind in KINDS for item in load([str(ROOT / kind)], kind)]


@pytest.mark.parametrize(("kind", "record"), EXAMPLES, ids=[r.get("id", "?") for _, r in EXAMPLES])
def test_every_example_goes_through_the_form_unchanged(kind, record):
    layout = forms.layout(KINDS[kind].schema)
    raw = forms.to_raw(layout, record)
    obj, raw_again, errors = forms.from_form(layout, raw)
    assert errors == {} and obj == record
    assert raw_again == raw


def test_the_layout_follows_the_schema():
    layout = forms.layout(KINDS["campaigns"].schema)
    top = {c.name: c for c in layout.children}
    assert top["status"].kind == "choice" and top["status"].options == ("active", "paused", "ended")
    assert top["priority"].kind == "integer" and top["priority"].required
    assert top["channels"].kind == "list" and "shop_crm" in top["channels"].options
    trigger = {c.name: c for c in top["trigger"].children}
    assert trigger["kind"].kind == "text" and "dial_114" in trigger["kind"].options  # suggestions, any quota_<n>mb
    assert trigger["params"].kind == "yaml"
    assert top["variants"].rows and [c.name for c in top["variants"].children] == [
        "id",
        "offer",
        "product",
        "message",
        "channel",
    ]
    static = {c.name: c for c in {c.name: c for c in top["audience"].children}["static"].children}
    assert static["value"].kind == "yaml" and static["op"].kind == "choice"
    steps = {c.name: c for c in {c.name: c for c in forms.layout(KINDS["journeys"].schema).children}["steps"].children}
    assert {c.name for c in steps["reminder"].children} == {"day", "days_before_end", "channels", "message"}  # $ref


def test_typed_text_is_kept_and_wrong_types_are_named_by_the_validator():
    layout = forms.layout(KINDS["campaigns"].schema)
    form = {
        "id": "spring-sale",
        "name": "<script>alert(1)</script>",
        "priority": " high ",
        "cooldown_hours": "1.5",
        "channels": "sms, , shop_crm",
        "audience.static[0].field": "",  # an empty row, dropped
        "audience.static[0].op": "",
        "audience.static[3].field": "brand",  # numbered again: [0]
        "audience.static[3].op": "in",
        "audience.static[3].value": "[gotone, mzone]",
        "audience.dynamic[0].field": "data_mb_24h",
        "audience.dynamic[0].op": "gt",
        "audience.dynamic[0].value": "[unclosed",
    }
    obj, raw, errors = forms.from_form(layout, form)
    assert obj["name"] == "<script>alert(1)</script>" and obj["priority"] == "high" and obj["cooldown_hours"] == 1.5
    assert obj["channels"] == ["sms", "shop_crm"]
    assert obj["audience"]["static"] == [{"field": "brand", "op": "in", "value": ["gotone", "mzone"]}]
    assert raw["audience.static[0].value"] == "[gotone, mzone]" and "audience.static[3].field" not in raw
    assert raw["priority"] == " high "  # shown again exactly as typed
    assert list(errors) == ["audience.dynamic[0].value"] and errors["audience.dynamic[0].value"].startswith(
        "not valid YAML"
    )
    found = dict(problems(KINDS["campaigns"], obj, None))
    assert found["priority"] == "'high' is not of type 'integer'"
    assert {"status", "start", "end", "trigger.kind", "offer.id", "offer.message"} <= set(found)


def test_each_error_lands_beside_its_field_or_the_nearest_one_shown():
    layout = forms.layout(KINDS["campaigns"].schema)
    raw = {"audience.static[0].field": "brand"}
    shown = forms.paths(layout, raw)
    assert {"priority", "audience.static", "audience.static[0]", "audience.static[1].op"} <= shown
    assert "audience.static[2]" not in shown  # one row with text, one empty row
    placed = forms.place(
        [
            ("priority", "is required"),
            ("audience.static[0].value", "must be one of ..."),
            ("trigger.params.region_kind", "unknown field"),
            ("variants[5].id", "is required"),
            ("(campaign)", "is not an object"),
        ],
        shown,
    )
    assert placed == {
        "priority": ["priority: is required"],
        "audience.static[0].value": ["audience.static[0].value: must be one of ..."],
        "trigger.params": ["trigger.params.region_kind: unknown field"],
        "variants": ["variants[5].id: is required"],
        "": ["(campaign): is not an object"],
    }
