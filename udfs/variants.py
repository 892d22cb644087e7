"""Which variant of a campaign's offer a treatment lead gets (docs/variants.md).

``even``: a stable split by the lead's id, the same variant for the same lead however often it is decided.
Control leads get no variant: they are the campaign's one control group, against which every variant's uplift is
measured.
"""

from __future__ import annotations

from udfs.campaigns import Campaign, Variant
from udfs.contact_policy import stable_fraction


def even(campaign: Campaign, lead_id: str) -> Variant:
    """An even split: each variant for 1/n of the leads, by a stable hash of the lead id."""
    n = len(campaign.variants)
    return campaign.variants[min(n - 1, int(stable_fraction("variant", campaign.id, lead_id) * n))]
