"""udfs.ingest_rules directly, without Flink: every reason, the precedence, and normalisation."""

import json

import pytest

from touchpoint.config import load_settings
from touchpoint.schemas import enum
from udfs.ingest_rules import ORDERS_FIELDS, SIGNALING_FIELDS, XDR_FIELDS, IngestRules

S = load_settings()
RULES = IngestRules(
    S.ingest.ts_min_ms,
    S.ingest.ts_max_ms,
    frozenset(enum("signaling", "event_type")),
    frozenset(enum("signaling", "rat")),
    frozenset(enum("orders", "action")),
    frozenset(enum("orders", "product_kind")),
)
GOOD = {
    "event_id": "s1",
    "event_type": "mo_call",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "imsi": "460001234567890",
    "imei": "356938031234567",
    "lac": 4101,
    "cell_id": 4101001,
    "rat": " g3",
    "called_number": "114",
}
GOOD_XDR = {
    "event_id": "x1",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "imsi": "460001234567890",
    "rat": "LTE",
    "bytes_up": 1,
    "bytes_down": 2,
}


def sig(**changes):
    rec = {k: v for k, v in {**GOOD, **changes}.items() if v is not ...}
    out = RULES.check_signaling(json.dumps(rec))
    return dict(zip(SIGNALING_FIELDS + ("reason", "detail", "raw"), out))


def test_valid_record_is_typed_and_normalised():
    out = sig(extra_field_from_a_newer_probe=1)
    assert out["reason"] is None and out["raw"] is None
    assert out["rat"] == "G3" and out["lac"] == 4101 and out["called_number"] == "114"
    assert out["forward_to"] is None


@pytest.mark.parametrize(
    "changes, reason, detail",
    [
        ({"msisdn": ...}, "missing_field", "msisdn"),
        ({"msisdn": None}, "missing_field", "msisdn"),
        ({"event_id": ..., "msisdn": ...}, "missing_field", "event_id"),  # first in field order wins
        ({"event_type": "teleport"}, "unknown_event_type", "teleport"),
        ({"event_type": "teleport", "ts": "x"}, "unknown_event_type", "teleport"),  # before invalid_value
        ({"called_number": ...}, "missing_field", "called_number"),
        ({"ts": "1762012800000"}, "invalid_value", "ts"),
        ({"ts": 1.5}, "invalid_value", "ts"),
        ({"ts": True}, "invalid_value", "ts"),
        ({"msisdn": "1390000000x"}, "invalid_value", "msisdn"),
        ({"msisdn": 13900000001}, "invalid_value", "msisdn"),
        ({"imsi": "46000"}, "invalid_value", "imsi"),
        ({"rat": "WIMAX"}, "invalid_value", "rat"),
        ({"lac": "4101"}, "invalid_value", "lac"),
        ({"duration_s": -1}, "invalid_value", "duration_s"),
        ({"vlr_plmn": 46000}, "invalid_value", "vlr_plmn"),
        ({"ts": 1762012800}, "ts_out_of_range", "1762012800"),  # seconds, not ms
        ({"ts": -5}, "ts_out_of_range", "-5"),
        ({"ts": 10413792000000}, "ts_out_of_range", "10413792000000"),  # year 2300
    ],
)
def test_each_defect_has_its_reason(changes, reason, detail):
    out = sig(**changes)
    assert (out["reason"], out["detail"]) == (reason, detail)
    assert json.loads(out["raw"]) == {k: v for k, v in {**GOOD, **changes}.items() if v is not ...}


@pytest.mark.parametrize("line", ["not json", '{"event_id": "s1",', "[1, 2]", '"a string"', "", "null"])
def test_non_objects_are_bad_json_and_keep_the_line(line):
    out = RULES.check_signaling(line)
    assert out[-3:] == ("bad_json", "not a JSON object", line)


def test_dlq_keeps_only_well_typed_ids():
    out = sig(ts="soon", event_id="s9")
    assert out["event_id"] == "s9" and out["ts"] is None


@pytest.mark.parametrize(
    "changes, reason, detail",
    [
        ({}, None, None),
        ({"rat": ...}, "missing_field", "rat"),
        ({"bytes_up": -1}, "invalid_value", "bytes_up"),
        ({"bytes_down": 2.5}, "invalid_value", "bytes_down"),
        ({"rat": "wimax"}, "invalid_value", "rat"),
        ({"ts": 0}, "ts_out_of_range", "0"),
    ],
)
def test_xdr_rules(changes, reason, detail):
    rec = {k: v for k, v in {**GOOD_XDR, **changes}.items() if v is not ...}
    out = dict(zip(XDR_FIELDS + ("reason", "detail", "raw"), RULES.check_xdr(json.dumps(rec))))
    assert (out["reason"], out["detail"]) == (reason, detail)


GOOD_ORDER = {
    "order_id": "o1",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "product_id": "data_package_50",
    "product_kind": "data_package",
    "action": "subscribe",
}


@pytest.mark.parametrize(
    "changes, reason, detail",
    [
        ({}, None, None),
        ({"lead_id": "l-1", "channel": "sms"}, None, None),
        ({"product_id": ...}, "missing_field", "product_id"),
        ({"action": "upgrade"}, "unknown_action", "upgrade"),
        ({"action": 1, "ts": "x"}, "unknown_action", "not a string"),  # before invalid_value
        ({"product_kind": "Data_Package"}, "invalid_value", "product_kind"),  # not normalised, unlike rat
        ({"msisdn": "abc"}, "invalid_value", "msisdn"),
        ({"lead_id": 7}, "invalid_value", "lead_id"),
        ({"ts": 5}, "ts_out_of_range", "5"),
    ],
)
def test_order_rules(changes, reason, detail):
    rec = {k: v for k, v in {**GOOD_ORDER, **changes}.items() if v is not ...}
    out = dict(zip(ORDERS_FIELDS + ("reason", "detail", "raw"), RULES.check_orders(json.dumps(rec))))
    assert (out["reason"], out["detail"]) == (reason, detail)
    if reason:  # a dead order keeps its id
        assert out["order_id"] == "o1"
