"""The trigger kind catalogue (udfs/trigger_kinds.py) is the one list of kinds: what is derived from it is checked
here once, and every copy that cannot be derived (JSON Schemas, the recipe files, docs/triggers.md) is held equal
to it."""

from __future__ import annotations

import re

import pytest

from touchpoint import ROOT
from touchpoint.config import load_settings
from touchpoint.flink.sql import SQL_DIR
from touchpoint.harness.simulator.truth import Params
from touchpoint.schemas import errors, schema
from udfs import trigger_kinds
from udfs.trigger_kinds import KINDS, QUOTA_PATTERN, quota_kind, quota_threshold, spec

DEFAULT_THRESHOLDS = [20, 5, 0]


def _kind_properties(node, path=""):
    """(path, property schema) of every place in a JSON Schema that holds a trigger kind."""
    if isinstance(node, dict):
        values = [*node.get("enum", []), *(v for a in node.get("anyOf", []) for v in a.get("enum", []))]
        if "region_entry" in values:
            yield path, node
            return
        for k, v in node.items():
            yield from _kind_properties(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _kind_properties(v, f"{path}[{i}]")


def test_every_schema_copy_of_the_kinds_is_the_catalogue():
    found = {}
    for path in sorted((ROOT / "schemas").rglob("*.schema.json")):
        name = str(path.relative_to(ROOT / "schemas")).removesuffix(".schema.json")
        found |= {f"{name}{where}": node for where, node in _kind_properties(schema(name))}
    assert set(found) == {
        "triggers/properties/kind",
        "campaigns/properties/trigger/properties/kind",
        "leads/properties/trigger_kind",
        "decisions/properties/trigger_kind",
    }
    for where, node in found.items():
        fixed, family = node["anyOf"]
        assert fixed["enum"] == trigger_kinds.fixed_names(), where
        assert family["pattern"] == QUOTA_PATTERN, where


def test_a_trigger_of_any_threshold_is_schema_valid():
    record = {
        "trigger_id": "t-1",
        "msisdn": "13900000001",
        "kind": "quota_10mb",
        "ts": 1,
        "detected_at": 2,
        "context": {"threshold_mb": 10, "remaining_bytes": 0},
    }
    assert errors("triggers", record) == []
    assert errors("triggers", record | {"kind": "quota"}) != []


def test_every_kind_has_one_recipe_and_every_recipe_a_kind():
    recipes = {p.stem for p in (SQL_DIR / "triggers" / "kinds").glob("*.sql")}
    assert recipes == {k.name for k in KINDS}


def test_the_quota_recipe_is_parameterised_by_threshold():
    text = (SQL_DIR / "triggers" / "kinds" / "quota.sql").read_text()
    assert "${threshold_mb}" in text and "${kind}_found" in text
    assert not re.search(r"\b(20|5|0) AS BIGINT", text), "no threshold is written into the recipe"


def test_docs_define_every_kind():
    table = {
        m.group(1) for m in re.finditer(r"^\| `([a-z0-9_<>]+)`", (ROOT / "docs" / "triggers.md").read_text(), re.M)
    }
    assert table == set(trigger_kinds.describe_names())


def test_settings_defaults_derive_from_the_catalogue():
    s = load_settings()
    assert s.triggers.quota_thresholds_mb == DEFAULT_THRESHOLDS
    assert s.triggers.kinds == trigger_kinds.names(DEFAULT_THRESHOLDS)
    assert s.decisions.location_kinds == ["region_entry", "dwell", "handset_store_visits", "roam_out"]
    assert set(s.decisions.location_kinds) == {k.name for k in KINDS if k.location}


def test_other_thresholds_change_every_derived_list():
    s = load_settings(triggers={"quota_thresholds_mb": [10, 50]})
    assert [k for k in s.triggers.kinds if k.startswith("quota")] == ["quota_50mb", "quota_10mb"]
    assert [k for k in Params.from_settings(s).kinds() if k.startswith("quota")] == ["quota_50mb", "quota_10mb"]


def test_the_ground_truth_lists_every_kind_in_catalogue_order():
    assert Params.from_settings(load_settings()).kinds() == trigger_kinds.names(DEFAULT_THRESHOLDS)


@pytest.mark.parametrize("threshold", [0, 5, 20, 1024])
def test_quota_kind_round_trip(threshold):
    kind = quota_kind(threshold)
    assert quota_threshold(kind) == threshold and spec(kind).name == "quota" and spec(kind).source == "xdr"
    assert re.fullmatch(QUOTA_PATTERN, kind)


@pytest.mark.parametrize("kind", ["quota", "quota_mb", "teleport", ""])
def test_unknown_kinds_are_refused(kind):
    with pytest.raises(KeyError, match="unknown trigger kind"):
        spec(kind)
