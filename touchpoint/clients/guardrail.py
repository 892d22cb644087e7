"""The guardrail topic from outside Flink: which campaigns the effect job's guardrail paused (the latest record of
each campaign), and a marketer's resume (docs/variants.md). Nothing is deleted: a resume is one more record."""

from __future__ import annotations

import getpass
import time
from typing import Any

from touchpoint.config import Settings


def states(settings: Settings, timeout_s: float = 60.0) -> dict[str, dict[str, Any]]:
    """Campaign id -> its latest guardrail record (paused or resumed), read from the topic's start."""
    from touchpoint.clients.kafka_io import latest_by_key

    return latest_by_key(settings.kafka, settings.topics.guardrail, "campaign_id", timeout_s)


def resume_record(
    campaign_id: str, note: str | None, by: str | None = None, after: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record that resumes ``campaign_id`` (schemas/guardrail.schema.json), by the user running the command.
    Its time is now, or just after the pause it resumes (``after``) if that one is stamped later (a pause carries
    the event time of the uplift that tripped it): ClickHouse orders a campaign's records by time."""
    return {
        "campaign_id": campaign_id,
        "state": "active",
        "by": by or getpass.getuser(),
        "reason": note,
        "ts": max(int(time.time() * 1000), int((after or {}).get("ts") or 0) + 1),
    }


def resume(settings: Settings, campaign_id: str, note: str | None = None) -> dict[str, Any]:
    """Publish a resume of ``campaign_id``, keyed by it (acks=all; raises when it is not delivered)."""
    from touchpoint.clients.campaigns import encode
    from touchpoint.clients.kafka_io import deliver_all

    record = resume_record(campaign_id, note, after=states(settings).get(campaign_id))
    value = encode(record)
    deliver_all(settings.kafka, [(settings.topics.guardrail, campaign_id.encode(), value)], "guardrail", 30.0, 5.0)
    return record
