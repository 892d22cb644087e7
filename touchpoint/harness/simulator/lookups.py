"""The lookups the trigger definitions need (docs/triggers.md), built from the reference files: the ground truth's
view of cells, regions, handsets, profiles and number ranges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from touchpoint.reference import read_reference_csv


@dataclass
class Reference:
    """The lookups the trigger definitions need (docs/triggers.md), built from the reference files."""

    #: cell_id -> region_id (None when the cell is in no micro-region). Only cells in this map are "location" cells.
    cell_region: dict[int, str | None] = field(default_factory=dict)
    #: region_id -> (kind, watched)
    regions: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: tac -> handset row (brand, model, tier, g3_capable)
    handsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: msisdn -> (data_quota_mb, data_used_mb)
    profiles: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: 7-digit msisdn prefix -> province code
    number_ranges: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        cells: Iterable[dict[str, Any]],
        regions: Iterable[dict[str, Any]],
        handsets: Iterable[dict[str, Any]],
        profiles: Iterable[dict[str, Any]],
        number_ranges: Iterable[dict[str, Any]],
    ) -> Reference:
        return cls(
            cell_region={c["cell_id"]: c["region_id"] for c in cells},
            regions={r["region_id"]: (r["kind"], r["watched"]) for r in regions},
            handsets={h["tac"]: {k: h[k] for k in ("brand", "model", "tier", "g3_capable")} for h in handsets},
            profiles={p["msisdn"]: (p["data_quota_mb"], p["data_used_mb"]) for p in profiles},
            number_ranges={n["prefix"]: n["province"] for n in number_ranges},
        )

    @classmethod
    def load(cls, reference_dir: str | Path) -> Reference:
        d = Path(reference_dir)
        names = ("cells", "regions", "handsets", "profiles", "number_ranges")  # what the definitions look up
        return cls.from_rows(*(read_reference_csv(d / f"{n}.csv") for n in names))
