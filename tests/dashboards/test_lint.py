"""The shipped dashboards against Grafana's published schema and the structure rules; broken ones are caught."""

from __future__ import annotations

import json

from touchpoint.dashboards import lint, model

# --- static validation ---------------------------------------------------------------------------------------------


def test_dashboards_pass_grafana_schema_and_structure():
    schema = lint.load_schema()  # built by `make setup` from @grafana/schema
    assert schema.get("x-grafana-schema-version"), "schema not built by grafana/schema/build.sh"
    ds = model.load_dashboards()
    assert {d.uid for d in ds} == {"touchpoint-micro-regions", "touchpoint-campaigns", "touchpoint-pipeline"}
    for d in ds:
        assert lint.schema_errors(d, schema) == [], d.path.name
        assert lint.structure_errors(d) == [], d.path.name
    assert lint.provisioning_errors() == []
    geomap = model.dashboard_by_uid("touchpoint-micro-regions").panel(1)
    assert geomap["type"] == "geomap"
    style = geomap["options"]["layers"][0]["config"]["style"]
    assert (style["color"]["field"], style["size"]["field"]) == ("g3_coverage", "subscribers")
    assert "$__timeFilter(window_start)" in model.panel_sql(geomap)
    campaign_var = model.dashboard_by_uid("touchpoint-campaigns").variables()[0]
    assert campaign_var["name"] == "campaign"


def test_schema_and_structure_catch_broken_dashboards():
    schema = lint.load_schema()
    d = model.dashboard_by_uid("touchpoint-campaigns")
    broken = json.loads(json.dumps(d.model))
    broken["panels"][0]["gridPos"] = {"x": 0, "y": 0, "w": 12}  # schema: h required
    broken["panels"][1]["bogus"] = True  # schema: no extra properties
    broken["panels"][2]["targets"][0]["rawSql"] += " AND $nosuchvar"  # structure: undefined variable
    broken["panels"][3]["targets"][0]["datasource"] = {"type": "mysql", "uid": "other"}
    broken["panels"][4]["id"] = broken["panels"][5]["id"]
    bd = model.Dashboard(d.path, broken)
    errs = lint.schema_errors(bd, schema)
    assert any("panels[0]" in e and "'h' is a required property" in e for e in errs)
    assert any("panels[1]" in e and "bogus" in e for e in errs)
    serrs = lint.structure_errors(bd)
    assert any("$nosuchvar" in e for e in serrs)
    assert any("not on datasource touchpoint-clickhouse" in e for e in serrs)
    assert any("id also used" in e for e in serrs)
