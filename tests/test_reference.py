"""The reference-file format (touchpoint/reference.py): typed reading, nulls and lists, the header checked."""

from __future__ import annotations

import pytest

from touchpoint.reference import read_reference_csv, rows_to_csv_text


def test_read_reference_csv_types(tmp_path):
    p = tmp_path / "cells.csv"
    p.write_text("cell_id,lac,lat,lon,rat,region_id\n1001,1,32.5,118.1,LTE,\n1002,1,32.5,118.2,NR,mall-001\n")
    assert read_reference_csv(p) == [
        {"cell_id": 1001, "lac": 1, "lat": 32.5, "lon": 118.1, "rat": "LTE", "region_id": None},
        {"cell_id": 1002, "lac": 1, "lat": 32.5, "lon": 118.2, "rat": "NR", "region_id": "mall-001"},
    ]
    p = tmp_path / "profiles.csv"
    p.write_text(
        "msisdn,imsi,brand,plan,data_quota_mb,data_used_mb,arpu_band,age_band,consent_marketing,"
        "consent_location,do_not_disturb,products\n"
        "01390000001,460000000000001,mzone,mzone_18,0,0,low,18-24,true,false,false,\n"
        "13900000002,460000000000002,gotone,gotone_88,100,3,high,25-34,false,true,true,12580;fetion\n"
    )
    a, b = read_reference_csv(p)
    assert a["msisdn"] == "01390000001" and a["products"] == [] and a["consent_location"] is False
    assert b["products"] == ["12580", "fetion"] and b["data_quota_mb"] == 100 and b["do_not_disturb"] is True
    p.write_text("msisdn,imsi\n1,2\n")
    with pytest.raises(ValueError, match="columns"):
        read_reference_csv(p)


def test_a_wrong_header_names_the_file_and_the_columns(tmp_path):
    p = tmp_path / "regions.csv"
    p.write_text("region_id,name,kind\nr1,R 1,mall\n")
    with pytest.raises(ValueError, match=r"regions\.csv: columns \['region_id', 'name', 'kind'\] != expected"):
        read_reference_csv(p)


def test_written_rows_read_back_the_same(tmp_path):
    rows = [{"tac": "35000001", "brand": "Nokia", "model": "N73", "tier": "mid", "g3_capable": False}]
    p = tmp_path / "handsets.csv"
    p.write_text(rows_to_csv_text("handsets", rows))
    assert read_reference_csv(p) == rows


def test_kafka_keys_are_the_flink_tables_primary_keys():
    """One id per reference data set: the Kafka key the publisher writes is the primary key the jobs upsert by."""
    from touchpoint.flink.sql import SQL_DIR
    from touchpoint.reference import KEYS, REFERENCE_NAMES, kafka_key

    assert set(KEYS) == set(REFERENCE_NAMES)
    for name, key in KEYS.items():
        assert f"PRIMARY KEY ({key}) NOT ENFORCED" in (SQL_DIR / "tables" / f"{name}.sql").read_text(), name
    assert kafka_key("cells", {"cell_id": 1002}) == b"\x00" * 6 + b"\x03\xea"  # Java's LongSerializer
    assert kafka_key("profiles", {"msisdn": "13900000001"}) == b"13900000001"  # StringSerializer
