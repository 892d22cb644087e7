"""Campaigns and trial journeys as the console handles them: the two kinds of definition, their validation (the
job's own validator, as `touchpoint campaigns publish` runs it, plus every other schema error at once), the drafts
kept between visits (work in progress: not audited, no broker needed), and the changes — publish, pause,
resume — each delivered with its audit record.

Nothing reaches a topic without passing :func:`problems` first: the console cannot publish an invalid
definition, however the request was made."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from touchpoint.config import Settings
from touchpoint.console import audit
from touchpoint.console.form import Group
from touchpoint.console.form import layout as form_layout
from touchpoint.console.users import User, write_private
from touchpoint.schemas import schema, validator
from udfs.campaigns import DefinitionError, parse_campaign, schema_problems
from udfs.journeys import parse_journey


@dataclass(frozen=True)
class Kind:
    """One kind of definition: its schema, validator, topic and the field its records are keyed by."""

    name: str  # campaigns, journeys
    key_field: str
    parse: Callable[[Any], Any]
    root: str  # how the validators name the whole definition

    @property
    def one(self) -> str:
        return self.name[:-1]

    @property
    def schema(self) -> dict:
        return schema(self.name)

    @cached_property
    def layout(self) -> Group:
        """The editor's form of this kind (built once)."""
        return form_layout(self.schema)


KINDS = {
    "campaigns": Kind("campaigns", "id", parse_campaign, "(campaign)"),
    "journeys": Kind("journeys", "trial_product", parse_journey, "(journey)"),
}
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class ChangeError(RuntimeError):
    """A change that could not be made (invalid, unknown, or the broker did not take it); one line."""


class FieldError(ChangeError):
    """A change refused because of one field of the definition: shown beside that field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class DeliveryFailed(ChangeError):
    """The broker did not confirm every record of a change: some may have landed (no transaction spans two
    topics), so the page says to look at what is in force."""


def problems(kind: Kind, obj: Any, products: set[str] | None) -> list[tuple[str, str]]:
    """Every problem of a definition as (field, message): first the one the CLI reports (the job's validator,
    word for word), then the other schema errors; with a catalogue, an offered product not in it (as the CLI)."""
    try:
        parsed = kind.parse(obj)
    except DefinitionError as e:
        first = (e.field, e.message)
        rest = [p for p in schema_problems(validator(kind.name), obj, kind.root) if p[0] != first[0]]
        return [first, *rest]
    if products is not None:
        from touchpoint.clients.campaigns import Item, offered_products

        for f, product in offered_products(Item("console", obj, parsed)).items():
            if product not in products:
                return [(f, f"unknown product {product!r} (not in the catalogue)")]
    return []


def key_of(kind: Kind, obj: dict) -> str:
    return str(obj.get(kind.key_field, ""))


# --- drafts ---------------------------------------------------------------------------------------------------


def drafts_dir(settings: Settings, kind: Kind) -> Path:
    return (settings.console.drafts_dir or settings.paths.work_dir / "console" / "drafts") / kind.name


def _safe(key: str) -> bool:
    return bool(_SAFE_KEY.match(key))


def _draft_path(settings: Settings, kind: Kind, key: str) -> Path:
    if not _safe(key):
        raise FieldError(kind.key_field, f"{key!r} cannot name a draft (letters, digits, _ . - only)")
    return drafts_dir(settings, kind) / f"{key}.json"


def drafts(settings: Settings, kind: Kind) -> dict[str, dict]:
    """Saved drafts by key (a draft may be invalid: it is work in progress)."""
    d = drafts_dir(settings, kind)
    out = {}
    for p in sorted(d.glob("*.json")) if d.is_dir() else []:
        try:
            out[p.stem] = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
    return out


def save_draft(settings: Settings, kind: Kind, obj: dict) -> str:
    """Keep a draft (valid or not) under its key; it changes nothing in force, so it has no audit record and
    needs no broker."""
    key = key_of(kind, obj)
    if not key:
        raise FieldError(kind.key_field, "is required to save a draft")
    write_private(_draft_path(settings, kind, key), json.dumps(obj, ensure_ascii=False, indent=2))
    return key


def delete_draft(settings: Settings, kind: Kind, key: str) -> bool:
    if not _safe(key):  # no draft can have that name
        return False
    path = _draft_path(settings, kind, key)
    if not path.is_file():
        return False
    path.unlink()
    return True


# --- changes on the topics --------------------------------------------------------------------------------------


def deliver(settings: Settings, records: list[tuple[str, str, dict]], what: str) -> None:
    """``(topic, key, record)``s by one producer, acks=all, each delivery waited for; a record not confirmed is
    a :class:`DeliveryFailed` (Kafka has no transaction across the two topics here: the change and its audit
    record are produced together, and the page says when the broker did not confirm both)."""
    from touchpoint.clients.campaigns import encode
    from touchpoint.clients.kafka_io import DeliveryError, deliver_all

    encoded = [(t, k.encode(), encode(r)) for t, k, r in records]
    try:
        deliver_all(settings.kafka, encoded, what, timeout_s=settings.console.figures_timeout_s * 2, unreachable_s=5.0)
    except DeliveryError as e:
        raise DeliveryFailed(
            f"Kafka ({settings.kafka.bootstrap}) did not confirm the change: {e}. A record it did not confirm may "
            "still have landed: reload to see what is in force"
        ) from None


def publish(
    settings: Settings,
    kind: Kind,
    obj: dict,
    before: dict | None,
    user: User,
    products: set[str] | None,
    action: str = "publish",
    note: str = "",
) -> dict:
    """Validate ``obj`` and publish it with its audit record; returns the audit record. Raises ChangeError (the
    first problem, naming the field) and publishes nothing when it is invalid."""
    found = problems(kind, obj, products)
    if found:
        raise FieldError(*found[0])
    key = key_of(kind, obj)
    rec = audit.record(user.name, user.role, action, kind.name, key, before, obj, note)
    t = settings.topics
    deliver(settings, [(getattr(t, kind.name), key, obj), (t.console_audit, key, rec)], kind.name)
    return rec


def with_status(obj: dict, status: str) -> dict:
    return {**obj, "status": status}


def resume_guardrail(settings: Settings, campaign_id: str, pause: dict, user: User, note: str) -> dict:
    """Lift the guardrail's pause of a campaign (`touchpoint campaigns resume`), with its audit record."""
    from touchpoint.clients.guardrail import resume_record

    resumed = resume_record(campaign_id, note or None, by=user.name, after=pause)
    before, after = {"guardrail": pause.get("state")}, {"guardrail": "active"}
    rec = audit.record(
        user.name, user.role, "resume", "campaigns", campaign_id, before, after, note or "guardrail pause"
    )
    t = settings.topics
    deliver(settings, [(t.guardrail, campaign_id, resumed), (t.console_audit, campaign_id, rec)], "guardrail")
    return resumed


def record_user_change(settings: Settings, by: User, action: str, name: str, before: str | None, after: str | None):
    """A user added or removed, on the audit topic (the role only; never a hash)."""
    rec = audit.record(
        by.name,
        by.role,
        action,
        "users",
        name,
        None if before is None else {"role": before},
        None if after is None else {"role": after},
    )
    deliver(settings, [(settings.topics.console_audit, name, rec)], "console audit")
    return rec
