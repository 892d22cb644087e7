"""``touchpoint campaigns|journeys publish|validate``: definition files to their topic, all or nothing.

Marketers keep campaigns and trial journeys as YAML (or JSON) files, one definition or a list per file. Every
definition is checked with the job's own validator (:func:`udfs.campaigns.parse_campaign`,
:func:`udfs.journeys.parse_journey`) before anything is produced, so one bad file publishes nothing. Records are
the file's object as compact JSON, keyed by campaign id (a journey: by its trial product, the key the journeys
job looks it up by): the topic is a changelog where the latest version of a key wins, so pausing or editing a
definition is publishing the edited file again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from touchpoint.config import Settings
from udfs.campaigns import Campaign, CampaignError, parse_campaign
from udfs.journeys import Journey, JourneyError, parse_journey

SUFFIXES = (".yaml", ".yml", ".json")


class PublishError(RuntimeError):
    """A file, a campaign or the broker failed; the message is one line naming the file and field."""


class DefinitionLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: ``start: 2026-11-01T00:00:00+08:00`` stays the string the schema wants
    (PyYAML would turn it into a datetime), whether or not the marketer quoted it."""


DefinitionLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Item:
    """One validated definition: where it came from, the record to publish, and its parsed form."""

    source: str  # "FILE" or "FILE[i]" for a list entry
    record: dict[str, Any]
    parsed: Campaign | Journey

    @property
    def key(self) -> str:
        """The record's Kafka key: a campaign's id, a journey's trial product (one journey per trial product)."""
        return self.parsed.trial_product if isinstance(self.parsed, Journey) else self.parsed.id


#: what -> (validator, its error, the field of the key, the topic key)
_KINDS = {
    "campaigns": (parse_campaign, CampaignError, "id", "campaigns"),
    "journeys": (parse_journey, JourneyError, "trial_product", "journeys"),
}


def files(paths: list[str], what: str = "campaigns") -> list[Path]:
    """The files named, a directory standing for its *.yaml / *.yml / *.json files in name order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.is_file())
            if not found:
                raise PublishError(f"{what}: {p}: no {', '.join('*' + s for s in SUFFIXES)} files")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise PublishError(f"{what}: {p}: not found")
    unique = {f.resolve(): f for f in reversed(out)}  # a file named twice (dir and file) is read once
    return [f for f in out if unique[f.resolve()] is f]


def load_file(path: Path, what: str = "campaigns") -> list[Any]:
    """The definitions in one file (a single object or a list), unvalidated."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PublishError(f"{what}: {path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=DefinitionLoader)  # noqa: S506
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise PublishError(f"{what}: {path}: not valid {kind}: {' '.join(str(e).split())}") from None
    if data is None or data == []:
        raise PublishError(f"{what}: {path}: holds no {what[:-1]}")
    return data if isinstance(data, list) else [data]


def offered_products(item: Item) -> dict[str, str]:
    """The products a definition names, by field: what converts a campaign's lead (and each variant's), a journey's
    two products."""
    d = item.parsed
    if isinstance(d, Journey):
        return {"trial_product": d.trial_product, "product": d.product}
    out = {"offer.product" if "product" in item.record["offer"] else "offer.id": d.product_id}
    for i, (v, given) in enumerate(zip(d.variants, item.record.get("variants", []))):
        if "product" in given or "offer" in given:
            out[f"variants[{i}].{'product' if 'product' in given else 'offer'}"] = v.product_id
    return out


def catalogue(settings: Settings) -> set[str] | None:
    """The product ids of the catalogue in ``paths.reference_dir`` (products.csv), or None without one."""
    from touchpoint.reference import read_reference_csv

    path = settings.paths.reference_dir / "products.csv"
    return {r["product_id"] for r in read_reference_csv(path, "products")} if path.is_file() else None


def load(paths: list[str], what: str = "campaigns", products: set[str] | None = None) -> list[Item]:
    """Every definition of ``paths``, validated; the first problem raises :class:`PublishError`. With ``products``
    (the catalogue) every product a definition names must be in it: an order of any other is a dead letter, so a
    lead or trial for it could never convert."""
    parse, error, key, _ = _KINDS[what]
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in files(paths, what):
        objs = load_file(path, what)
        for i, obj in enumerate(objs):
            source = f"{path}[{i}]" if len(objs) > 1 else str(path)
            try:
                item = Item(source, obj, parse(obj))
            except error as e:
                raise PublishError(f"{what}: {source}: {e}") from None
            if item.key in seen:  # two definitions of one key: which one wins would depend on file order
                raise PublishError(f"{what}: {source}: {key}: duplicate {key} {item.key!r}, also in {seen[item.key]}")
            seen[item.key] = source
            for field, product in offered_products(item).items() if products is not None else ():
                if product not in products:
                    raise PublishError(f"{what}: {source}: {field}: unknown product {product!r} (not in the catalogue)")
            items.append(item)
    return items


def encode(record: dict[str, Any]) -> bytes:
    """A record as compact JSON (NaN and infinities refused: they are not JSON, no job could read them back)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def publish(
    settings: Settings, items: list[Item], timeout_s: float = 30.0, unreachable_s: float = 5.0, what: str = "campaigns"
) -> None:
    """Produce every definition (acks=all) and wait for each delivery report; raise if any failed."""
    from touchpoint.clients.kafka_io import DeliveryError, deliver_all

    topic = getattr(settings.topics, _KINDS[what][3])
    records = [(topic, item.key.encode(), encode(item.record)) for item in items]
    try:
        deliver_all(settings.kafka, records, what, timeout_s, unreachable_s)
    except DeliveryError as e:
        raise PublishError(f"{what}: {e}") from None
