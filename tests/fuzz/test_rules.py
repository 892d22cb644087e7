"""Property tests of the rules every hostile record meets first, without Flink: ingest's validation (the same
rules the JVM functions apply, tests/jobs/test_ingest.py), campaign and journey definitions, and the decision
rules fed a trigger of any shape. Property: nothing raises but the rules' own errors, every line is valid or has
a reason, and a valid record is valid to its JSON Schema too."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import definitions, hostile_lines
from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.schemas import enum, errors
from udfs.campaigns import CampaignError, parse_campaign
from udfs.ingest_rules import ORDERS_FIELDS, REASONS, SIGNALING_FIELDS, XDR_FIELDS, IngestRules
from udfs.journeys import JourneyError, parse_journey

#: Fixed examples: a CI run is the same run every time (a failure is a bug to fix, not a roll of the dice).
FUZZ = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def ingest_rules(s=None) -> IngestRules:
    s = s or make_settings(pathlib.Path("/tmp/unused"))
    return IngestRules(
        s.ingest.ts_min_ms,
        s.ingest.ts_max_ms,
        frozenset(enum("signaling", "event_type")),
        frozenset(enum("signaling", "rat")),
        frozenset(enum("orders", "action")),
        frozenset(enum("orders", "product_kind")),
    )


RULES = ingest_rules()
CHECKS = {
    "signaling": (RULES.check_signaling, SIGNALING_FIELDS),
    "xdr": (RULES.check_xdr, XDR_FIELDS),
    "orders": (RULES.check_orders, ORDERS_FIELDS),
}


def classify(topic: str, line: bytes) -> tuple[dict | None, tuple[str, str] | None]:
    """(typed record, None) or (None, (reason, detail)) for one raw line, as it came (bytes)."""
    check, fields = CHECKS[topic]
    *values, reason, detail, raw = check(line)
    if reason is None:
        return {f: v for f, v in zip(fields, values) if v is not None}, None
    assert raw == line.decode("utf-8", "replace")
    return None, (reason, detail)


@pytest.mark.parametrize("topic", sorted(CHECKS))
@FUZZ
@given(data=st.data())
def test_every_raw_line_is_valid_or_has_a_reason(topic, data):
    line = data.draw(hostile_lines(topic))
    record, dead = classify(topic, line)
    if dead is not None:
        assert dead[0] in REASONS and isinstance(dead[1], str)
    else:  # what the rules let through, the topic's schema accepts: no second opinion downstream
        assert errors(topic, record) == [], (line[:300], record)


def _example(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


@FUZZ
@given(obj=definitions(_example(ROOT / "campaigns" / "dial-114-12580.yaml")))
def test_a_broken_campaign_is_refused_naming_the_field(obj):
    try:
        parse_campaign(obj)
    except CampaignError as e:
        assert str(e).strip() and e.field if hasattr(e, "field") else str(e).strip()


@FUZZ
@given(obj=definitions(_example(ROOT / "journeys" / "music-club-trial.yaml")))
def test_a_broken_journey_is_refused_naming_the_field(obj):
    try:
        parse_journey(obj)
    except JourneyError as e:
        assert str(e).strip()
