"""How the decision job keeps a subscriber: two compact byte strings, not one Flink state entry per hour.

- ``profile``: the profile's values in :data:`PROFILE_FIELDS` order, pickled as one tuple (no field names). It comes
  from the reference data and profile updates, so it has no TTL.
- ``history``: the hourly behaviour buckets of the last 48 h (plain tuples, hours as offsets from the first) and
  the contact record, pickled together and deflated. Most of an hour's counters are zero or repeat the hour
  before (the TAC, the regions), which deflate folds away: ~0.5 KB for 48 buckets, where one MapState entry per
  hour cost ~90 B each with Flink's framing (docs/performance.md).

Pure Python (no Flink), so the encoding is unit-tested directly (tests/jobs/test_decisions_state.py).
"""

from __future__ import annotations

import pickle
import zlib
from typing import Any

from udfs.behaviour import Bucket
from udfs.contact_policy import Contacts
from udfs.units import HOUR_MS

#: The profile fields the decision job keeps (sql/decisions/subscriber_inputs.sql builds the same from a
#: reference row); a field a profile update leaves out is None.
PROFILE_FIELDS = (
    "msisdn",
    "brand",
    "plan",
    "data_quota_mb",
    "arpu_band",
    "age_band",
    "consent_marketing",
    "consent_location",
    "do_not_disturb",
    "products",
)
#: raw deflate with a 2 KB window: a history is a few KB before compression, and a small window is faster
_WBITS = -11


def pack_profile(profile: dict[str, Any]) -> bytes:
    return pickle.dumps(tuple(profile.get(f) for f in PROFILE_FIELDS), protocol=5)


def unpack_profile(data: bytes | None) -> dict[str, Any] | None:
    return None if data is None else dict(zip(PROFILE_FIELDS, pickle.loads(data)))


def pack_history(buckets: dict[int, tuple], contacts: Contacts) -> bytes:
    """Buckets by hour start (ms) and the contact record, as deflated bytes."""
    hours = sorted(buckets)
    first = hours[0] // HOUR_MS if hours else 0
    payload = (
        first,
        [h // HOUR_MS - first for h in hours],
        [tuple(buckets[h]) for h in hours],
        (contacts.leads, contacts.last_lead, contacts.decided),
    )
    c = zlib.compressobj(1, zlib.DEFLATED, _WBITS, 2)
    return c.compress(pickle.dumps(payload, protocol=5)) + c.flush()


def unpack_history(data: bytes | None) -> tuple[dict[int, tuple], Contacts]:
    """The buckets (hour start ms -> plain tuple, :class:`Bucket` field order) and the contact record."""
    if data is None:
        return {}, Contacts()
    first, offsets, values, (leads, last_lead, decided) = pickle.loads(zlib.decompress(data, _WBITS))
    buckets = {(first + o) * HOUR_MS: v for o, v in zip(offsets, values)}
    return buckets, Contacts(leads=leads, last_lead=last_lead, decided=decided)


def as_buckets(buckets: dict[int, tuple]) -> dict[int, Bucket]:
    """What the rules read (:func:`udfs.behaviour.rollup`)."""
    return {h: Bucket(*b) for h, b in buckets.items()}
