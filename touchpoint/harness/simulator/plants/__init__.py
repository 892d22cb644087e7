"""Planted situations: for each trigger kind, a module that plants one situation of it into a subscriber's
timeline, so that every kind is found in every simulated city however small (the ground truth marks the triggers
a plant completes).

A module here is named after its kind (udfs/kinds/) and has two functions: ``need_ms(scenario)``, the scenario time one
plant needs, and ``place(scenario, sub, lo, hi) -> bool``, which plants it within ``[lo, hi)`` and says whether it
could. Modules whose name starts with ``_`` hold shapes several plants share. A kind that ordinary traffic
already produces is in :data:`NATURAL` instead; a test holds plants and natural kinds equal to the catalogue.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs import trigger_kinds


@dataclass(frozen=True)
class Plant:
    """How one kind's situation is planted."""

    need_ms: Callable[[Scenario], int]
    place: Callable[[Scenario, Sub, int, int], bool]


#: The kinds no plant is needed for, and where they come from instead.
NATURAL = {"roam_in": "the inbound roamers (simulator.roamer_fraction) arrive on the network"}


def _collect() -> dict[str, Plant]:
    found = {}
    for name in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        module = importlib.import_module(f"{__name__}.{name}")
        found[name] = Plant(module.need_ms, module.place)
    return found


_FOUND = _collect()
#: kind -> its plant, in catalogue order (the order plants are handed out to subscribers)
PLANTS: dict[str, Plant] = {k.name: _FOUND[k.name] for k in trigger_kinds.KINDS if k.name in _FOUND}
