"""The rules' lookups (udfs.kinds.Reference) read from a city's reference files."""

from __future__ import annotations

from pathlib import Path

from touchpoint.reference import read_reference_csv
from udfs.kinds import Reference


def load_reference(reference_dir: str | Path) -> Reference:
    """The lookups the trigger rules need, from ``reference_dir``'s CSV files."""
    d = Path(reference_dir)
    names = ("cells", "regions", "handsets", "profiles", "number_ranges")  # what the definitions look up
    return Reference.from_rows(*(read_reference_csv(d / f"{n}.csv") for n in names))
