"""The plants: one per trigger kind that ordinary traffic does not produce, named after its kind (that each plant's
situation is found by its kind's rule is tests/harness/simulator/test_simulator.py's
test_every_trigger_kind_is_planted)."""

from touchpoint.harness.simulator import plants
from udfs.trigger_kinds import KINDS


def test_every_kind_has_a_plant_or_comes_naturally():
    assert set(plants.PLANTS) | set(plants.NATURAL) == {k.name for k in KINDS}
    assert not set(plants.PLANTS) & set(plants.NATURAL)


def test_every_plant_module_is_a_kind_of_the_catalogue():
    assert set(plants._FOUND) == set(plants.PLANTS)


def test_plants_are_handed_out_in_catalogue_order():
    order = [k.name for k in KINDS]
    assert list(plants.PLANTS) == sorted(plants.PLANTS, key=order.index)
