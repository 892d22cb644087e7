"""The settings reference (docs/settings.md) is generated from the typed settings and kept current; every setting
has a description; the other docs name real settings and link to the reference instead of copying defaults."""

import re

import pytest
import yaml

from touchpoint import ROOT
from touchpoint.cli import main
from touchpoint.config import Settings
from touchpoint.config.reference import PATH, missing_descriptions, render

SECTIONS = {name: f.annotation for name, f in Settings.model_fields.items()}
FIELDS = {name for model in SECTIONS.values() for name in model.model_fields}
PROPERTIES = {n for model in SECTIONS.values() for n in dir(model) if isinstance(getattr(model, n), property)}
#: ``section.word`` in backticks that is no setting: a record's field of the topic of the same name
NOT_SETTINGS = {"triggers.context"}
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _docs():
    return [(p.relative_to(ROOT), p.read_text()) for p in DOCS if p != ROOT / PATH]


def test_the_reference_is_current():
    assert (ROOT / PATH).read_text() == render(), f"run: touchpoint settings reference > {PATH}"


def test_every_section_and_setting_is_described():
    assert missing_descriptions() == []


def test_the_reference_lists_every_setting_with_its_default():
    text = render()
    cell = r"((?:[^|\\]|\\.)+)"  # a table cell, with escaped pipes
    rows = re.findall(rf"^\| `([a-z_]+)\.([a-z_0-9]+)` \| {cell} \| {cell} \|", text, re.M)
    assert {(s, f) for s, f, _, _ in rows} == {(s, f) for s, m in SECTIONS.items() for f in m.model_fields}
    defaults = {f"{s}.{f}": d.strip() for s, f, _, d in rows}
    assert defaults["triggers.dwell_minutes"] == f"`{Settings().triggers.dwell_minutes}`"
    assert defaults["decisions.quiet_start"] == "`21:00`"
    assert defaults["kafka.sasl_password"] == "unset"
    assert defaults["paths.work_dir"] == "`<root>/work`"


def test_a_missing_description_is_found():
    field = SECTIONS["effect"].model_fields["min_sample"]
    saved, field.description = field.description, None
    try:
        assert missing_descriptions() == ["effect.min_sample"]
    finally:
        field.description = saved


@pytest.mark.parametrize("path, text", _docs(), ids=lambda x: str(x) if not isinstance(x, str) else "")
def test_docs_name_real_settings(path, text):
    stale = [
        m.group(0)
        for m in re.finditer(r"`([a-z_]+)\.([a-z_0-9]+)`", text)
        if m.group(1) in SECTIONS
        and m.group(2) not in SECTIONS[m.group(1)].model_fields
        and m.group(2) not in PROPERTIES
        and m.group(2) not in ("py", "md", "sql", "json", "yaml")
        and m.group(0).strip("`") not in NOT_SETTINGS
    ]
    assert not stale, f"{path} names settings that do not exist: {stale}"


#: A setting's name (qualified or bare) right before a bracketed value: "`dwell_minutes` [30]", "`x.y` (60 s)".
COPY = re.compile(
    r"`?(?:([a-z_]+)\.)?([a-z_0-9]+)`?\s*(\((?:default:? )?\[?[0-9][^)]*\)|\[[^\]]*[0-9\"][^\]]*\]|= [0-9][0-9.]*)"
)


@pytest.mark.parametrize("path, text", _docs(), ids=lambda x: str(x) if not isinstance(x, str) else "")
def test_docs_link_to_the_reference_instead_of_copying_defaults(path, text):
    copies = [
        m.group(0)
        for m in COPY.finditer(text)
        if (m.group(1) in SECTIONS and m.group(2) in SECTIONS[m.group(1)].model_fields)
        or (m.group(1) is None and m.group(2) in FIELDS and "_" in m.group(2))
    ]
    assert not copies, f"{path} copies defaults (link to {PATH} instead): {copies}"


def test_a_copied_default_is_found():
    assert COPY.search("waits `ordering.reorder_ms` (1 s) on purpose")
    assert COPY.search("at least `dwell_minutes` [30] after")
    assert COPY.search("one per `triggers.quota_thresholds_mb` ([20, 5, 0]: `quota_20mb`)")
    assert COPY.search("default `decisions.attribution_days` = 7)")


def test_show_prints_the_settings_in_effect_with_secrets_masked(monkeypatch, capsys):
    monkeypatch.setenv("TOUCHPOINT_KAFKA__SASL_PASSWORD", "hunter2-not-shown")
    monkeypatch.setenv("TOUCHPOINT_TRIGGERS__DWELL_MINUTES", "45")
    assert main(["settings", "show"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    shown = yaml.safe_load(out)
    assert shown["triggers"]["dwell_minutes"] == 45
    assert shown["kafka"]["sasl_password"] == "**********"


def test_reference_command_prints_the_file(capsys):
    assert main(["settings", "reference"]) == 0
    assert capsys.readouterr().out == (ROOT / PATH).read_text()
