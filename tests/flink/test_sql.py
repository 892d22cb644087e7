"""The SQL recipe runner: statement splitting and placeholders (no Flink needed)."""

import pytest

from touchpoint.config import load_settings
from touchpoint.flink.sql import SQL_DIR, render, split_statements


def test_split_respects_quotes_and_comments():
    text = "-- a comment; not a statement\nSELECT ';' FROM t;\nSELECT `a;b` FROM u -- trailing; comment\n;"
    assert split_statements(text) == ["SELECT ';' FROM t", "SELECT `a;b` FROM u"]


def test_placeholders_leave_regex_anchors_alone(tmp_path):
    f = tmp_path / "x.sql"
    f.write_text("SELECT REGEXP(a, '^[0-9]+$') FROM t WHERE ts < ${limit};")
    assert render(f, limit=5) == ["SELECT REGEXP(a, '^[0-9]+$') FROM t WHERE ts < 5"]


def test_missing_placeholder_names_file_and_name(tmp_path):
    f = tmp_path / "y.sql"
    f.write_text("SELECT ${nope};")
    with pytest.raises(KeyError, match="nope"):
        render(f)


def test_every_recipe_renders_with_its_placeholders_named():
    # every ${name} in the shipped recipes is a known parameter of some job
    from jobs import JOBS, job_module
    from jobs.triggers import recipe

    # the tables' and recipes' own (a generic table's name), and data_end (a replay's end, known only when the job
    # is built)
    known = {
        "connector",
        "time_attributes",
        "out_of_orderness_s",
        "feed",
        "clocks",
        "kind",
        "reference",
        "table",
        "data_end",
        "keyed_columns",  # the effect job's: the Kafka key's column when streaming
    }
    settings = load_settings()
    for kind in settings.triggers.kinds:
        known |= set(recipe(kind, settings)[1])
    for name in JOBS:
        if hasattr(module := job_module(name), "parameters"):
            known |= set(module.parameters(settings))
    import re

    for path in SQL_DIR.rglob("*.sql"):
        if path.is_relative_to(SQL_DIR / "clickhouse"):  # ClickHouse migrations: their own placeholders
            continue
        names = set(re.findall(r"\$\{([a-z_]+)\}", path.read_text()))
        assert names <= known, f"{path}: unknown placeholders {names - known}"
