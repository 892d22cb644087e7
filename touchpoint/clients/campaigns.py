"""``touchpoint campaigns publish|validate``: campaign files to the ``campaigns`` topic, all or nothing.

Marketers keep campaigns as YAML (or JSON) files, one campaign or a list per file. Every campaign is checked
with the decision job's own validator (:func:`udfs.campaigns.parse_campaign`) before anything is produced, so
one bad file publishes nothing. Records are the file's object as compact JSON, keyed by campaign id: the topic
is a changelog where the latest version of an id wins, so pausing or editing a campaign is publishing the
edited file again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from touchpoint.config import Settings
from udfs.campaigns import Campaign, CampaignError, parse_campaign

SUFFIXES = (".yaml", ".yml", ".json")


class PublishError(RuntimeError):
    """A file, a campaign or the broker failed; the message is one line naming the file and field."""


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``start: 2026-11-01T00:00:00+08:00`` stays the string the schema wants
    (PyYAML would turn it into a datetime), whether or not the marketer quoted it."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Item:
    """One validated campaign: where it came from, the record to publish, and its parsed form."""

    source: str  # "FILE" or "FILE[i]" for a list entry
    record: dict[str, Any]
    campaign: Campaign


def files(paths: list[str]) -> list[Path]:
    """The files named, a directory standing for its *.yaml / *.yml / *.json files in name order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.is_file())
            if not found:
                raise PublishError(f"campaigns: {p}: no {', '.join('*' + s for s in SUFFIXES)} files")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise PublishError(f"campaigns: {p}: not found")
    unique = {f.resolve(): f for f in reversed(out)}  # a file named twice (dir and file) is read once
    return [f for f in out if unique[f.resolve()] is f]


def load_file(path: Path) -> list[Any]:
    """The campaign objects in one file (a single object or a list), unvalidated."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PublishError(f"campaigns: {path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)  # noqa: S506
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise PublishError(f"campaigns: {path}: not valid {kind}: {' '.join(str(e).split())}") from None
    if data is None or data == []:
        raise PublishError(f"campaigns: {path}: holds no campaign")
    return data if isinstance(data, list) else [data]


def load(paths: list[str]) -> list[Item]:
    """Every campaign of ``paths``, validated; the first problem raises :class:`PublishError`."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in files(paths):
        objs = load_file(path)
        for i, obj in enumerate(objs):
            source = f"{path}[{i}]" if len(objs) > 1 else str(path)
            try:
                c = parse_campaign(obj)
            except CampaignError as e:
                raise PublishError(f"campaigns: {source}: {e}") from None
            if c.id in seen:  # two definitions of one id: which one wins would depend on file order
                raise PublishError(f"campaigns: {source}: id: duplicate id {c.id!r}, also in {seen[c.id]}")
            seen[c.id] = source
            items.append(Item(source, obj, c))
    return items


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


def publish(settings: Settings, items: list[Item], timeout_s: float = 30.0, unreachable_s: float = 5.0) -> None:
    """Produce every campaign (acks=all) and wait for each delivery report; raise if any failed."""
    from touchpoint.clients.kafka_io import DeliveryError, deliver_all

    records = [(settings.topics.campaigns, item.campaign.id.encode(), encode(item.record)) for item in items]
    try:
        deliver_all(settings.kafka.bootstrap, records, "campaigns", timeout_s, unreachable_s)
    except DeliveryError as e:
        raise PublishError(f"campaigns: {e}") from None
