"""The trigger kind catalogue (udfs/trigger_kinds.py, one module per kind in udfs/kinds/) is the one list of kinds:
what is derived from it is checked here once, the files written from it (JSON Schemas, docs/triggers.md's table)
are current, and the recipes are held equal to it."""

from __future__ import annotations

import re

import pytest

from touchpoint import ROOT, catalogue
from touchpoint.config import load_settings
from touchpoint.flink.sql import SQL_DIR
from touchpoint.schemas import errors, schema
from udfs import trigger_kinds
from udfs.kinds import Params, Reference, Timeline
from udfs.trigger_kinds import KINDS, QUOTA_PATTERN, RULES, quota_kind, quota_threshold, spec

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


def test_every_schema_that_names_a_kind_is_written_from_the_catalogue():
    found = set()
    for path in sorted((ROOT / "schemas").rglob("*.schema.json")):
        name = str(path.relative_to(ROOT / "schemas")).removesuffix(".schema.json")
        found |= {f"{name}{where}" for where, _ in _kind_properties(schema(name))}
    assert found == {
        f"{name}/properties/" + "/properties/".join(fields) for name, fields in catalogue.SCHEMA_FIELDS.items()
    }


def test_the_files_written_from_the_catalogue_are_current():
    assert catalogue.stale() == [], "run: make generated"


def test_a_changed_catalogue_makes_them_stale(monkeypatch):
    monkeypatch.setattr(catalogue, "KINDS", KINDS[1:])
    monkeypatch.setattr(trigger_kinds, "fixed_names", lambda: [k.name for k in KINDS[1:] if not k.per_threshold])
    assert set(catalogue.stale()) == {path for path, _ in catalogue.derived()}


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


def test_the_readme_names_every_kind():
    text = (ROOT / "README.md").read_text()
    paragraph = text[text.index("`triggers` detects the kinds") :].split("\n\n")[0]
    named = set(re.findall(r"`([a-z_0-9<>]+)`", paragraph))
    assert set(trigger_kinds.describe_names()) <= named, set(trigger_kinds.describe_names()) - named


def test_settings_defaults_derive_from_the_catalogue():
    s = load_settings()
    assert s.triggers.quota_thresholds_mb == DEFAULT_THRESHOLDS
    assert s.triggers.kinds == trigger_kinds.names(DEFAULT_THRESHOLDS)
    assert s.decisions.location_kinds == ["dwell", "handset_store_visits", "region_entry", "roam_out"]
    assert set(s.decisions.location_kinds) == {k.name for k in KINDS if k.location}


def test_other_thresholds_change_every_derived_list():
    s = load_settings(triggers={"quota_thresholds_mb": [10, 50]})
    assert [k for k in s.triggers.kinds if k.startswith("quota")] == ["quota_50mb", "quota_10mb"]
    assert Params.from_settings(s).quota_thresholds_mb == (50, 10)


def test_every_module_of_udfs_kinds_is_a_kind_named_after_it():
    modules = {p.stem for p in (ROOT / "udfs" / "kinds").glob("*.py")} - {"__init__"}
    assert modules == {k.name for k in KINDS} == set(RULES)
    assert [k.name for k in KINDS] == sorted(modules)


def test_each_kind_gives_its_recipe_exactly_the_placeholders_it_uses_beyond_the_common_ones():
    from jobs.triggers import parameters, recipe

    s = load_settings()
    common = set(parameters(s)) | {"kind", "data_end"}
    for kind in s.triggers.kinds:
        path, given = recipe(kind, s)
        used = set(re.findall(r"\$\{([a-z_]+)\}", (SQL_DIR / path).read_text()))
        assert used - common == set(given) - {"kind"}, kind


def test_every_rule_finds_its_kind_on_the_timeline_it_is_keyed_by():
    """One situation of each rule's kind, on one timeline: the rule finds it and no other rule's kind."""
    ref = Reference(
        cell_region={1: None, 2: "r-mall", 3: "r-store"},
        regions={"r-mall": ("mall", True), "r-store": ("handset_store", False)},
        profiles={"13900000001": (100, 0)},
    )
    p = Params.from_settings(load_settings(triggers={"dwell_minutes": 1, "handset_store_visits": 1}))
    m, imsi, h = "13900000001", "460001234567890", 3_600_000

    def sig(ts, **kw):
        return {"msisdn": m, "imsi": imsi, "ts": ts, "event_type": "location_update", **kw}

    signaling = [
        sig(0, cell_id=1, imei="35000000000001", vlr_plmn="46000"),
        sig(h, cell_id=2),  # region_entry
        sig(h + 120_000, cell_id=2),  # dwell
        sig(2 * h, cell_id=3),  # handset_store_visits
        sig(3 * h, event_type="mo_call", called_number="114"),
        sig(4 * h, event_type="mo_call", called_number="10086"),
        sig(5 * h, imei="35000000000002"),  # handset_change
        sig(6 * h, event_type="call_forward_set", forward_to="13900000009"),
        sig(7 * h, event_type="detach"),
        sig(12 * h, event_type="attach"),  # power_on
        sig(13 * h, vlr_plmn="23415"),  # roam_out
    ]
    xdrs = [{"msisdn": m, "ts": 14 * h, "bytes_up": 0, "bytes_down": 600 * 1_048_576}]  # quota_*, abnormal_usage
    orders = [
        {
            "msisdn": m,
            "ts": 15 * h,
            "order_id": "o1",
            "product_id": "p",
            "action": "subscribe",
            "product_kind": "data_package",
        }
    ]  # zero_usage, a day later
    t = Timeline(signaling, xdrs, orders, ref.profiles[m])
    found = {k: {r["kind"] for r in f(t, ref, p)} for k, f in RULES.items()}
    expected = {k: {k} for k in RULES if k not in ("roam_in", "quota")}
    expected |= {
        "roam_in": set(),
        "quota": set(trigger_kinds.names(p.quota_thresholds_mb)) - set(trigger_kinds.fixed_names()),
    }
    assert found == expected


@pytest.mark.parametrize("threshold", [0, 5, 20, 1024])
def test_quota_kind_round_trip(threshold):
    kind = quota_kind(threshold)
    assert quota_threshold(kind) == threshold and spec(kind).name == "quota" and spec(kind).source == "xdr"
    assert re.fullmatch(QUOTA_PATTERN, kind)


@pytest.mark.parametrize("kind", ["quota", "quota_mb", "teleport", ""])
def test_unknown_kinds_are_refused(kind):
    with pytest.raises(KeyError, match="unknown trigger kind"):
        spec(kind)
