"""Validation rules of the ``ingest`` job: one raw line in, typed fields plus a DLQ reason out.

This is the readable specification. The job runs the same rules on the JVM (jvm/src/touchpoint/ingest), where a
line costs no trip to Python; tests/jobs/test_ingest.py holds the two equal on the same lines.

The first defect found wins, in this order: ``bad_json`` (not a JSON object), ``missing_field`` (a
required field absent or null), ``unknown_event_type``, ``invalid_value`` (wrong type or format),
``ts_out_of_range``. ``detail`` names the field (or the offending value for the last two).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

_MSISDN = re.compile(r"[0-9]{5,15}")
_IMSI = re.compile(r"[0-9]{14,15}")

SIGNALING_FIELDS = (
    "event_id",
    "event_type",
    "ts",
    "msisdn",
    "imsi",
    "imei",
    "lac",
    "cell_id",
    "rat",
    "vlr_plmn",
    "called_number",
    "calling_number",
    "duration_s",
    "forward_to",
)
XDR_FIELDS = (
    "event_id",
    "ts",
    "msisdn",
    "imsi",
    "imei",
    "lac",
    "cell_id",
    "rat",
    "apn",
    "app",
    "bytes_up",
    "bytes_down",
    "duration_s",
)

#: position of ``rat`` in each field tuple (normalised on every valid record)
_SIGNALING_RAT = SIGNALING_FIELDS.index("rat")
_XDR_RAT = XDR_FIELDS.index("rat")
_SIGNALING_REQUIRED = ("event_id", "event_type", "ts", "msisdn", "imsi")
_XDR_REQUIRED = ("event_id", "ts", "msisdn", "imsi", "rat", "bytes_up", "bytes_down")
_INTS = frozenset({"lac", "cell_id", "duration_s", "bytes_up", "bytes_down"})
_NON_NEGATIVE = frozenset({"duration_s", "bytes_up", "bytes_down"})
#: integers the normalised topics carry as INT (32 bits); a larger value is invalid, not wrapped around
_INT32 = frozenset({"lac", "duration_s"})


_BIGINT = (-(2**63), 2**63 - 1)


def _is_int(v: object) -> bool:
    """A JSON integer that fits a BIGINT; a larger one is an invalid value (a number, not a crash)."""
    return isinstance(v, int) and not isinstance(v, bool) and _BIGINT[0] <= v <= _BIGINT[1]


@dataclass(frozen=True)
class IngestRules:
    """Bounds and vocabularies come from settings and the schemas, so SQL, docs and tests agree."""

    ts_min_ms: int
    ts_max_ms: int
    event_types: frozenset[str]
    rats: frozenset[str]

    def check_signaling(self, line: str) -> tuple:
        """Typed ``SIGNALING_FIELDS``, then ``reason``, ``detail`` and ``raw`` (all None when valid)."""
        return self._check(line, SIGNALING_FIELDS, _SIGNALING_REQUIRED, _SIGNALING_RAT, signaling=True)

    def check_xdr(self, line: str) -> tuple:
        """Typed ``XDR_FIELDS``, then ``reason``, ``detail`` and ``raw`` (all None when valid)."""
        return self._check(line, XDR_FIELDS, _XDR_REQUIRED, _XDR_RAT, signaling=False)

    def _check(
        self, line: str, fields: tuple[str, ...], required: tuple[str, ...], rat_at: int, signaling: bool
    ) -> tuple:
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            rec = None
        if not isinstance(rec, dict):
            return (None,) * len(fields) + ("bad_json", "not a JSON object", line)
        values = [rec.get(f) for f in fields]
        problem = self._problem(rec, fields, required, signaling)
        if problem is None:
            if values[rat_at] is not None:  # normalise "g3 " -> "G3"
                values[rat_at] = values[rat_at].strip().upper()
            return (*values, None, None, None)
        # Keep what is usable for the DLQ record (event_id, ts) only when it has the right type.
        safe = tuple(
            v if (f == "event_id" and isinstance(v, str)) or (f == "ts" and _is_int(v)) else None
            for f, v in zip(fields, values)
        )
        # The rejected line travels with its reason, so the DLQ branch needs nothing but this result
        # (then both branches share one evaluation of this function in Flink's plan).
        return safe + problem + (line,)

    def _problem(
        self, rec: dict, fields: tuple[str, ...], required: tuple[str, ...], signaling: bool
    ) -> tuple[str, str] | None:
        for f in required:
            if rec.get(f) is None:
                return "missing_field", f
        if signaling:
            etype = rec["event_type"]
            if not isinstance(etype, str) or etype not in self.event_types:
                return "unknown_event_type", etype if isinstance(etype, str) else "not a string"
            if etype == "mo_call" and rec.get("called_number") is None:
                return "missing_field", "called_number"
        ts = rec["ts"]
        if not _is_int(ts):
            return "invalid_value", "ts"
        for f, pattern in (("msisdn", _MSISDN), ("imsi", _IMSI)):
            v = rec[f]
            if not isinstance(v, str) or not pattern.fullmatch(v):
                return "invalid_value", f
        rat = rec.get("rat")
        if rat is not None and (not isinstance(rat, str) or rat.strip().upper() not in self.rats):
            return "invalid_value", "rat"
        for f in fields:  # unknown extra fields are ignored: producers may add fields before we do
            v = rec.get(f)
            if v is None:
                continue
            if f in _INTS:
                if not _is_int(v) or (f in _NON_NEGATIVE and v < 0) or (f in _INT32 and not -(2**31) <= v < 2**31):
                    return "invalid_value", f
            elif f != "ts" and not isinstance(v, str):
                return "invalid_value", f
        if not self.ts_min_ms <= ts < self.ts_max_ms:
            return "ts_out_of_range", str(ts)
        return None
