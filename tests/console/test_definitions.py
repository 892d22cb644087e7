"""The console validates as the CLI does: for a bad draft its first problem is the CLI's message word for word,
a product not in the catalogue is refused as the CLI refuses it, and nothing invalid is ever delivered (these
tests have no broker: a delivery attempt would fail with Kafka's message instead of the field's)."""

from __future__ import annotations

import copy

import pytest
import yaml

from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.clients.campaigns import PublishError, load
from touchpoint.console import definitions as defs
from touchpoint.console.users import User

GOOD = load([str(ROOT / "campaigns" / "mall-entry-shop.yaml")])[0].record
JOURNEY = load([str(ROOT / "journeys")], "journeys")[0].record


def _set(obj: dict, path: str, value) -> dict:
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    if value is None:
        node.pop(last)
    else:
        node[last] = value
    return out


BAD_CAMPAIGNS = [
    ("priority", "high"),
    ("trigger.kind", "dial_911"),
    ("end", "2026-10-01T00:00:00+08:00"),
    ("offer.message", "Hi {nobody}"),
    ("channels", ["sms", "sms"]),
    ("id", "Spring Sale"),
    ("name", None),
    ("selection", "greedy"),
    ("control_percent", 101),
    ("cooldown_hours", float("nan")),  # YAML's .nan: a number to the schema, not JSON
]


@pytest.mark.parametrize(("path", "value"), BAD_CAMPAIGNS, ids=[p for p, _ in BAD_CAMPAIGNS])
def test_the_first_problem_is_the_clis_message(path, value, tmp_path):
    bad = _set(GOOD, path, value)
    (f := tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(PublishError) as cli:
        load([str(f)])
    field, message = defs.problems(defs.KINDS["campaigns"], bad, None)[0]
    assert str(cli.value) == f"campaigns: {f}: {field}: {message}"
    assert field.split("[")[0] == path


def test_journeys_too_and_every_schema_problem_at_once(tmp_path):
    bad = _set(_set(JOURNEY, "trial_days", "thirty"), "usage.min_mb", -1)
    (f := tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(PublishError) as cli:
        load([str(f)], "journeys")
    found = defs.problems(defs.KINDS["journeys"], bad, None)
    assert str(cli.value).endswith(f"{found[0][0]}: {found[0][1]}")
    assert {f for f, _ in found} == {"trial_days", "usage.min_mb"}


def test_a_product_outside_the_catalogue_is_refused_like_the_cli():
    found = defs.problems(defs.KINDS["campaigns"], GOOD, {"some_other_product"})
    assert found == [("offer.product", f"unknown product {GOOD['offer']['product']!r} (not in the catalogue)")]
    assert defs.problems(defs.KINDS["campaigns"], GOOD, None) == []


def test_nothing_invalid_is_delivered(tmp_path):
    s = make_settings(tmp_path / "w", "127.0.0.1:9")  # nothing listens: a delivery would fail naming Kafka
    ana = User("ana", "marketer")
    with pytest.raises(defs.ChangeError, match=r"^priority: 'high' is not of type 'integer'$"):
        defs.publish(s, defs.KINDS["campaigns"], _set(GOOD, "priority", "high"), GOOD, ana, None)
    with pytest.raises(defs.ChangeError, match=r"^Kafka \(127\.0\.0\.1:9\)"):
        defs.publish(s, defs.KINDS["campaigns"], GOOD, GOOD, ana, None)


def test_drafts_are_kept_valid_or_not_and_named_safely(tmp_path):
    s = make_settings(tmp_path / "w")
    kind = defs.KINDS["campaigns"]
    assert defs.save_draft(s, kind, {"id": "half-done", "priority": "soon"}) == "half-done"
    assert defs.drafts(s, kind) == {"half-done": {"id": "half-done", "priority": "soon"}}
    with pytest.raises(defs.ChangeError, match="^id: is required"):
        defs.save_draft(s, kind, {"name": "no id"})
    with pytest.raises(defs.ChangeError, match=r"^id: '\.\./x' cannot name a draft"):
        defs.save_draft(s, kind, {"id": "../x"})
    assert defs.delete_draft(s, kind, "half-done") and defs.drafts(s, kind) == {}


def test_the_audit_record_names_each_field_changed():
    from touchpoint.console import audit
    from touchpoint.schemas import errors

    after = _set(_set(GOOD, "status", "paused"), "offer.message", "New text")
    rec = audit.record("ana", "marketer", "pause", "campaigns", GOOD["id"], GOOD, after, "stock out")
    assert rec["changes"] == [
        'offer.message: "' + GOOD["offer"]["message"] + '" -> "New text"',
        'status: "active" -> "paused"',
    ]
    assert errors("console-audit", rec) == []
    new = audit.record("ana", "marketer", "publish", "campaigns", "x", None, {"id": "x", "channels": ["sms"]})
    assert new["changes"] == ['channels: - -> ["sms"]', 'id: - -> "x"'] and new["before"] == ""
