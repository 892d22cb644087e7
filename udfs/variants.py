"""Which variant of a campaign's offer a treatment lead gets (docs/variants.md).

- ``even``: a stable split by the lead's id, the same variant for the same lead however often it is decided.
- ``adaptive``: Thompson sampling on each variant's conversions so far. The effect job's ``uplift`` records of
  scope ``variant`` reach the decision job (:func:`counts_of` reads them); for a lead, one draw from each
  variant's Beta(1 + converted, 1 + leads - converted) posterior, the largest wins. The draws are seeded by the
  lead id and the lead records the counts they were drawn from, so a choice can be explained and decided again.
  A floor of exploration (``decisions.variant_floor_percent``) offers each variant to at least that share of the
  leads, so a variant unlucky early is still measured.

Control leads get no variant: they are the campaign's one control group, against which every variant's uplift is
measured.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from udfs.campaigns import Campaign, Variant
from udfs.contact_policy import stable_fraction


@dataclass(frozen=True)
class Counts:
    """A variant's treatment leads and conversions so far, and the version of the effect job's record."""

    leads: int
    converted: int
    version: int

    def record(self) -> dict[str, int]:
        return {"leads": self.leads, "converted": self.converted, "version": self.version}


NO_COUNTS = Counts(0, 0, 0)


def even(campaign: Campaign, lead_id: str) -> Variant:
    """An even split: each variant for 1/n of the leads, by a stable hash of the lead id."""
    n = len(campaign.variants)
    return campaign.variants[min(n - 1, int(stable_fraction("variant", campaign.id, lead_id) * n))]


def thompson(campaign: Campaign, lead_id: str, counts: Mapping[str, Counts], floor: float) -> Variant:
    """Thompson sampling over the variants' ``counts`` (a variant without counts: none yet), seeded by the lead id:
    with probability ``n * floor`` an even pick, else the variant with the largest posterior draw."""
    rng = random.Random(f"variant|{campaign.id}|{lead_id}")
    n = len(campaign.variants)
    if rng.random() < n * floor:
        return campaign.variants[min(n - 1, int(rng.random() * n))]
    draws = []
    for v in campaign.variants:
        c = counts.get(v.id, NO_COUNTS)
        draws.append(rng.betavariate(1 + c.converted, 1 + c.leads - c.converted))
    return campaign.variants[draws.index(max(draws))]


def choose(campaign: Campaign, lead_id: str, counts: Mapping[str, Counts], floor: float) -> Variant:
    """The variant of a treatment lead by the campaign's ``selection``."""
    if campaign.selection == "adaptive":
        return thompson(campaign, lead_id, counts, floor)
    return even(campaign, lead_id)


def counts_of(record: Any) -> tuple[str, str, Counts] | tuple[str, str]:
    """An ``uplift`` record of scope ``variant`` as (campaign id, variant id, counts); a record that cannot be
    counts as a dead-letter (reason, detail)."""
    if not isinstance(record, dict):
        return "invalid_value", "(record)"
    for name in ("campaign_id", "variant_id"):
        if not isinstance(record.get(name), str) or not record[name]:
            return "missing_field", name
    numbers = {}
    for name in ("treatment_leads", "treatment_converted", "version"):
        value = record.get(name)
        if value is None:
            return "missing_field", name
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return "invalid_value", f"{name}: a count expected, got {value!r}"[:200]
        numbers[name] = value
    if numbers["treatment_converted"] > numbers["treatment_leads"]:
        return "invalid_value", "treatment_converted: more than treatment_leads"
    counts = Counts(numbers["treatment_leads"], numbers["treatment_converted"], numbers["version"])
    return record["campaign_id"], record["variant_id"], counts
