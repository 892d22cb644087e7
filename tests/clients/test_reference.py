"""`touchpoint reference publish|delete` against the real broker: every row keyed by its id as Kafka's serializers
write one, exactly the file's typed rows; one invalid row publishes nothing; errors are one line naming the file,
line and field."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.clients.topics import fresh_topic, read_back, run
from touchpoint.clients.reference import ReferenceError, records
from touchpoint.reference import REFERENCE_NAMES, read_reference_csv

pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")

CELLS = "cell_id,lac,lat,lon,rat,region_id\n1001,1,32.5,118.1,LTE,\n1002,1,32.5,118.2,NR,mall-001\n"
REGIONS = "region_id,name,kind,watched,lat,lon\nmall-001,Xinjiekou Mall,mall,true,32.04,118.78\n"


@pytest.fixture
def ref(tmp_path):
    d = tmp_path / "reference"
    d.mkdir()
    (d / "cells.csv").write_text(CELLS)
    (d / "regions.csv").write_text(REGIONS)
    return d


def test_records_are_the_typed_rows_keyed_by_id(ref):
    got = list(records(ref))
    assert [name for name, _, _ in got] == ["cells", "cells", "regions"]
    # an integer id as Java's LongSerializer writes it (8 bytes big-endian), a string id as UTF-8
    assert [key for _, key, _ in got] == [(1001).to_bytes(8, "big"), (1002).to_bytes(8, "big"), b"mall-001"]
    assert [json.loads(v) for _, _, v in got] == read_reference_csv(ref / "cells.csv") + read_reference_csv(
        ref / "regions.csv"
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("cells", CELLS + "1003,1,32.5,118.2,WIMAX,\n", r"cells\.csv:4: rat: 'WIMAX' is not one of"),
        ("cells", CELLS + "1001,2,32.5,118.2,LTE,\n", r"cells\.csv:4: cell_id: duplicate 1001, also on line 2"),
        ("regions", REGIONS + "r2,R 2,mall,maybe,1,2\n", r"regions\.csv:3: not a boolean"),
        ("regions", "region_id,name\nr1,R\n", r"regions\.csv: columns \['region_id', 'name'\] != expected"),
    ],
)
def test_a_bad_row_names_file_line_and_field(ref, name, text, message):
    (ref / f"{name}.csv").write_text(text)
    with pytest.raises(ReferenceError, match=message):
        list(records(ref))


def test_a_folder_without_reference_files_is_an_error(tmp_path):
    with pytest.raises(ReferenceError, match="none of cells.csv"):
        list(records(tmp_path))
    with pytest.raises(ReferenceError, match="not a directory"):
        list(records(tmp_path / "missing"))


@pytest.mark.slow
def test_publish_then_delete_through_the_command(broker, ref, tmp_path):
    topics = {name: fresh_topic(broker, f"ref-{name}") for name in REFERENCE_NAMES}
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": broker} | {f"TOUCHPOINT_TOPICS__{k.upper()}": v for k, v in topics.items()}
    out = run("reference", "publish", str(ref), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "rows", "->", topics["cells"], "1", "rows", "->", topics["regions"]]
    got = read_back(broker, topics["cells"])
    assert [(k, json.loads(v)) for k, v in got] == [
        ((1001).to_bytes(8, "big"), read_reference_csv(ref / "cells.csv")[0]),
        ((1002).to_bytes(8, "big"), read_reference_csv(ref / "cells.csv")[1]),
    ]

    # one bad file: nothing at all is published, the error is one line
    bad = tmp_path / "bad"
    shutil.copytree(ref, bad)
    (bad / "regions.csv").write_text(REGIONS.replace("mall,true", "mall,yes"))
    out = run("reference", "publish", str(bad), env=env)
    assert out.returncode == 1 and out.stdout == "" and out.stderr.count("\n") == 1
    assert out.stderr.startswith(f"touchpoint: error: reference: {bad / 'regions.csv'}:2: not a boolean")
    assert len(read_back(broker, topics["cells"])) == 2

    out = run("reference", "delete", "cells", "1001", env=env)
    assert out.returncode == 0, out.stderr
    assert read_back(broker, topics["cells"])[-1] == ((1001).to_bytes(8, "big"), None)
    out = run("reference", "delete", "cells", "x1", env=env)
    assert out.returncode == 1 and "cell_id must be an integer" in out.stderr
