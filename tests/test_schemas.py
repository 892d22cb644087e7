"""Every topic and reference file has a JSON Schema and a valid example; broken records are rejected."""

import copy
import json

import pytest

from touchpoint.config import Topics
from touchpoint.reference import REFERENCE_NAMES
from touchpoint.schemas import SCHEMA_DIR, errors, schema

#: topic key -> schema name (normalised topics keep their input schema; a reference topic holds its file's rows)
TOPIC_SCHEMAS = {
    "signaling_normalised": "signaling",
    "xdr_normalised": "xdr",
    "orders_normalised": "orders",
    "region_metrics": "region-metrics",
    "journey_events": "journey-events",
    "console_audit": "console-audit",
} | {name: f"reference/{name}" for name in REFERENCE_NAMES}
NOT_CONTRACTS = {"passthrough"}  # benchmark scratch topic
#: every reference file, and the global PLMN table
REFERENCE = [*REFERENCE_NAMES, "plmn"]
ALL_SCHEMAS = sorted(
    {TOPIC_SCHEMAS.get(k, k) for k in Topics.model_fields if k not in NOT_CONTRACTS}
    | {f"reference/{r}" for r in REFERENCE}
)


def example(name: str) -> dict:
    return json.loads((SCHEMA_DIR / "examples" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_example_is_valid(name):
    assert errors(name, example(name)) == []


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_missing_required_field_is_rejected(name):
    for field in schema(name)["required"]:
        broken = copy.deepcopy(example(name))
        broken.pop(field, None)
        assert any(field in e for e in errors(name, broken)), f"{name} accepted a record without {field}"


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_wrong_types_and_unknown_fields_are_rejected(name):
    ex = example(name)
    for field, _value in ex.items():
        broken = dict(ex, **{field: [["not a valid value"]]})
        if schema(name)["properties"][field] == {}:
            continue  # deliberately untyped (e.g. a condition's value)
        assert errors(name, broken), f"{name}.{field} accepted a nested list"
    assert errors(name, dict(ex, surprise_field=1)), f"{name} accepted an unknown field"


def test_signaling_rules_beyond_types():
    ex = example("signaling")
    no_number = {k: v for k, v in ex.items() if k != "called_number"}
    assert any("called_number" in e for e in errors("signaling", no_number))  # mo_call needs it
    assert errors("signaling", dict(ex, rat="WIMAX"))
    assert errors("signaling", dict(ex, event_type="teleport"))
    assert errors("signaling", dict(no_number, event_type="mt_call")) == []


def test_every_schema_file_is_listed():
    on_disk = {str(p.relative_to(SCHEMA_DIR)).removesuffix(".schema.json") for p in SCHEMA_DIR.rglob("*.schema.json")}
    assert on_disk == set(ALL_SCHEMAS)


def test_the_product_catalogue_and_orders_know_the_same_kinds():
    from touchpoint.schemas import schema

    kinds = schema("reference/products")["properties"]["kind"]["enum"]
    assert kinds == schema("orders")["properties"]["product_kind"]["enum"]
