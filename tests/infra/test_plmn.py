"""The PLMN table (touchpoint/infra/plmn.py): built from the pinned mcc-mnc-p1 wheel, schema-valid, covering every
network the simulator uses. Reuses the wheel `make setup` cached (downloads it once otherwise)."""

from __future__ import annotations

import csv

import pytest

from touchpoint import ROOT
from touchpoint.config import Paths, load_settings
from touchpoint.harness.simulator.subscriber import FOREIGN_ROAMERS, FOREIGN_VLRS
from touchpoint.infra.plmn import WHEEL_NAME, ensure_plmn, fetch_wheel, rows_from_tables
from touchpoint.infra.wheels import WheelError
from touchpoint.schemas import errors


@pytest.fixture(scope="module")
def plmn_csv(tmp_path_factory):
    target = tmp_path_factory.mktemp("plmn") / "plmn.csv"
    ensure_plmn(target, load_settings().paths.work_dir / "cache")
    return target


@pytest.fixture(scope="module")
def table(plmn_csv) -> dict[str, dict]:
    with plmn_csv.open(newline="", encoding="utf-8") as f:
        return {r["plmn"]: r for r in csv.DictReader(f)}


def test_csv_has_real_operators(table):
    assert (table["46000"]["country"], table["46000"]["operator"]) == ("China", "China Mobile")
    assert (table["23415"]["country"], table["23415"]["operator"]) == ("United Kingdom", "Vodafone")
    assert (table["310260"]["mcc"], table["310260"]["mnc"], table["310260"]["country"]) == (
        "310",
        "260",
        "United States",
    )
    assert table["310260"]["operator"] == "T-Mobile US"
    assert len(table) > 3000 and {len(p) for p in table} == {5, 6}


def test_every_row_follows_the_schema(plmn_csv, table):
    assert plmn_csv.read_text(encoding="utf-8").splitlines()[0] == "plmn,mcc,mnc,country,operator"
    for row in table.values():
        rec = {k: (v if v != "" else None) for k, v in row.items()}
        assert errors("reference/plmn", rec) == [], row
        assert row["plmn"] == row["mcc"] + row["mnc"]


def test_simulator_networks_are_in_the_table(table):
    used = {p for p, _, _ in FOREIGN_ROAMERS} | set(FOREIGN_VLRS) | set(load_settings().network.home_plmns)
    assert used - set(table) == set()


def test_idempotent(plmn_csv):
    before = plmn_csv.read_bytes()
    ensure_plmn(plmn_csv, load_settings().paths.work_dir / "cache")
    assert plmn_csv.read_bytes() == before
    assert "AGPL" in plmn_csv.with_suffix(".NOTICE").read_text()


def test_default_path_is_the_makefile_target_under_the_default_work_dir():
    assert Paths().plmn == Paths().work_dir / "reference" / "plmn.csv" == ROOT / "work" / "reference" / "plmn.csv"


def test_checksum_is_verified(tmp_path):
    (tmp_path / WHEEL_NAME).write_bytes(b"not the wheel")
    with pytest.raises(WheelError, match="checksum"):
        fetch_wheel(tmp_path)


def test_shared_plmn_takes_the_main_territory_and_falls_back_to_the_brand():
    mnc = {
        "310260": [
            {"country": "Puerto Rico", "operator": "T-Mobile US", "brand": "T-Mobile", "cc2s": ["PR"]},
            {"country": "United States", "operator": " T-Mobile\n US ", "brand": "T-Mobile", "cc2s": ["US"]},
        ],
        "21408": {"country": "Spain", "operator": "", "brand": "Euskaltel", "cc2s": ["ES"]},
        "31014": {"country": "United States", "operator": "", "brand": "", "cc2s": ["US"]},
        "bad": {"country": "x", "operator": "y", "brand": "", "cc2s": []},
    }
    mcc = {
        "310": [{"cc2": "GU", "mncs": ["310140"]}, {"cc2": "US", "mncs": ["310260", "310140", "31014"]}],
        "214": {"cc2": "ES", "mncs": ["21408"]},
    }
    assert rows_from_tables(mnc, mcc) == [
        {"plmn": "21408", "mcc": "214", "mnc": "08", "country": "Spain", "operator": "Euskaltel"},
        {"plmn": "31014", "mcc": "310", "mnc": "14", "country": "United States", "operator": None},
        {"plmn": "310260", "mcc": "310", "mnc": "260", "country": "United States", "operator": "T-Mobile US"},
    ]
