"""`touchpoint campaigns publish|validate` against the real broker, plus the file-level rules of the campaign
loader (no broker needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.clients.topics import fresh_topic, read_back, run
from touchpoint import ROOT
from touchpoint.cli import main
from touchpoint.clients.campaigns import load_file
from touchpoint.schemas import errors

# kafka-python 3.0 loads its protocol schemas through a deprecated importlib.resources API
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")

EXAMPLES = ROOT / "campaigns"


# --- the loader and validation (no broker) ----------------------------------------------------------


def cli(capsys, *args) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def catalogue(tmp_path, monkeypatch) -> Path:
    """The simulated operator's product catalogue as the reference data the CLI checks products against."""
    from touchpoint.harness.simulator.city import City
    from touchpoint.reference import write_reference_csv

    ref = tmp_path / "reference"
    ref.mkdir()
    write_reference_csv(ref / "products.csv", "products", City.product_rows())
    monkeypatch.setenv("TOUCHPOINT_PATHS__REFERENCE_DIR", str(ref))
    return ref


def test_validate_examples(capsys, catalogue):
    rc, out, err = cli(capsys, "campaigns", "validate", str(EXAMPLES))
    ids = [p.stem for p in sorted(EXAMPLES.glob("*.yaml"))]
    kinds = [load_file(p)[0]["trigger"]["kind"] for p in sorted(EXAMPLES.glob("*.yaml"))]
    assert rc == 0 and err == ""
    assert out.splitlines() == [f"valid {i} (active, {k})" for i, k in zip(ids, kinds)]
    rc, out, err = cli(capsys, "journeys", "validate", str(ROOT / "journeys"))
    assert rc == 0 and err == "" and out.splitlines() == ["valid music-club-trial (active, trial of music_club_trial)"]


def test_a_product_outside_the_catalogue_is_refused_naming_the_field(tmp_path, capsys, catalogue):
    named = _write(tmp_path / "a.yaml", MINIMAL.format(id="a").replace("id: o,", "id: o, product: no_such,"))
    rc, _, err = cli(capsys, "campaigns", "validate", str(named))
    assert rc == 1 and err.strip().endswith(f"{named}: offer.product: unknown product 'no_such' (not in the catalogue)")
    by_offer_id = _write(tmp_path / "b.yaml", MINIMAL.format(id="b"))  # the offer id stands for the product
    rc, _, err = cli(capsys, "campaigns", "validate", str(by_offer_id))
    assert rc == 1 and "offer.id: unknown product 'o'" in err
    mall = (EXAMPLES / "mall-entry-shop.yaml").read_text()
    variant = _write(tmp_path / "v.yaml", mall.replace("    product: mall_coupon\n", "    product: no_coupon\n"))
    rc, _, err = cli(capsys, "campaigns", "validate", str(variant))
    assert rc == 1 and err.strip().endswith(
        f"{variant}: variants[1].product: unknown product 'no_coupon' (not in the catalogue)"
    )
    journey = (ROOT / "journeys" / "music-club-trial.yaml").read_text().replace("product: music_club\n", "product: x\n")
    rc, _, err = cli(capsys, "journeys", "validate", str(_write(tmp_path / "j.yaml", journey)))
    assert rc == 1 and "j.yaml: product: unknown product 'x'" in err
    (catalogue / "products.csv").unlink()  # without a catalogue nothing is checked, and the CLI says so
    rc, out, err = cli(capsys, "campaigns", "validate", str(named))
    assert rc == 0 and "products not checked" in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


MINIMAL = """\
id: {id}
name: Test
status: paused
start: 2026-11-01T00:00:00+08:00
end: 2026-12-01T00:00:00+08:00
trigger: {{kind: dial_114}}
offer: {{id: o, message: "Hi {{brand}}"}}
channels: [sms]
priority: 1
"""


def test_unquoted_yaml_timestamps_stay_strings(tmp_path, capsys):
    f = _write(tmp_path / "c.yaml", MINIMAL.format(id="unquoted"))
    assert load_file(f)[0]["start"] == "2026-11-01T00:00:00+08:00"
    assert cli(capsys, "campaigns", "validate", str(f))[:2] == (0, "valid unquoted (paused, dial_114)\n")


def test_list_files_json_files_and_dry_run(tmp_path, capsys):
    two = json.dumps([load_file(EXAMPLES / "dial-114-12580.yaml")[0], load_file(EXAMPLES / "roam-out-pack.yaml")[0]])
    _write(tmp_path / "two.json", two)
    _write(tmp_path / "one.yml", MINIMAL.format(id="one"))
    _write(tmp_path / "notes.txt", "not a campaign")  # other suffixes in a directory are ignored
    rc, out, _ = cli(capsys, "campaigns", "publish", "--dry-run", str(tmp_path))
    assert rc == 0
    assert out.splitlines() == [
        "valid one (paused, dial_114)",
        "valid dial-114-12580 (active, dial_114)",
        "valid roam-out-pack (active, roam_out)",
    ]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.yaml", "id: [unclosed", "not valid YAML: "),
        ("bad.json", '{"id": ', "not valid JSON: "),
        ("empty.yaml", "", "holds no campaign"),
        (
            "bad.yaml",
            MINIMAL.format(id="x").replace("dial_114", "dial_115"),
            "trigger.kind: unknown trigger kind 'dial_115'; known: abnormal_usage",
        ),
        ("bad.yaml", MINIMAL.format(id="x").replace("{brand}", "{name}"), "offer.message: unknown placeholder {name}"),
        (
            "bad.yaml",
            MINIMAL.format(id="x").replace("priority: 1", "priority: 1\ncolour: red"),
            "colour: is not a known field",
        ),
    ],
)
def test_file_errors_are_one_line(tmp_path, capsys, name, text, message):
    f = _write(tmp_path / name, text)
    rc, out, err = cli(capsys, "campaigns", "validate", str(f))
    assert rc == 1 and out == ""
    assert err.startswith(f"touchpoint: error: campaigns: {f}: {message}") and err.count("\n") == 1, err


def test_list_entry_and_duplicate_errors(tmp_path, capsys):
    good, bad = load_file(EXAMPLES / "dial-114-12580.yaml")[0], load_file(EXAMPLES / "roam-out-pack.yaml")[0]
    f = _write(tmp_path / "list.json", json.dumps([good, dict(bad, priority="high")]))
    assert cli(capsys, "campaigns", "validate", str(f))[2] == (
        f"touchpoint: error: campaigns: {f}[1]: priority: 'high' is not of type 'integer'\n"
    )
    shutil.copy(EXAMPLES / "dial-114-12580.yaml", tmp_path / "a.yaml")
    shutil.copy(EXAMPLES / "dial-114-12580.yaml", tmp_path / "b.yaml")
    f.unlink()
    rc, _, err = cli(capsys, "campaigns", "validate", str(tmp_path))
    assert rc == 1 and err == (
        f"touchpoint: error: campaigns: {tmp_path / 'b.yaml'}: id: duplicate id "
        f"'dial-114-12580', also in {tmp_path / 'a.yaml'}\n"
    )
    # the same file named twice is not a duplicate
    assert cli(capsys, "campaigns", "validate", str(tmp_path / "a.yaml"), str(tmp_path / "a.yaml"))[0] == 0


def test_missing_paths(tmp_path, capsys):
    assert cli(capsys, "campaigns", "validate", str(tmp_path / "nope"))[2] == (
        f"touchpoint: error: campaigns: {tmp_path / 'nope'}: not found\n"
    )
    assert cli(capsys, "campaigns", "validate", str(tmp_path))[2] == (
        f"touchpoint: error: campaigns: {tmp_path}: no *.yaml, *.yml, *.json files\n"
    )


# --- publishing to the broker ---------------------------------------------------------------------


@pytest.mark.slow
def test_publish_examples(broker):
    topic = fresh_topic(broker, "cli-campaigns")
    out = run(
        "campaigns",
        "publish",
        str(EXAMPLES),
        env={"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__CAMPAIGNS": topic},
    )
    assert out.returncode == 0, out.stderr
    files = sorted(EXAMPLES.glob("*.yaml"))
    objs = [load_file(p)[0] for p in files]
    assert out.stdout.splitlines() == [f"published {o['id']} ({o['status']}, {o['trigger']['kind']})" for o in objs]
    got = read_back(broker, topic)
    assert [k.decode() for k, _ in got] == [p.stem for p in files]  # keyed by id, in file order
    for (_, value), obj in zip(got, objs):
        assert json.loads(value) == obj  # exactly the file's content
        assert value == json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()  # compact


def test_status_names_the_paused_campaigns_and_resume_adds_a_record(broker):
    """The effect job's pause of one campaign on the guardrail topic: ``campaigns status`` says so beside the
    campaigns in force; ``campaigns resume`` adds a record (keyed by campaign), after which status says who resumed
    it, and the pause is still there to read."""
    campaigns, guardrail = fresh_topic(broker, "cli-status-campaigns"), fresh_topic(broker, "cli-status-guardrail")
    env = {
        "TOUCHPOINT_KAFKA__BOOTSTRAP": broker,
        "TOUCHPOINT_TOPICS__CAMPAIGNS": campaigns,
        "TOUCHPOINT_TOPICS__GUARDRAIL": guardrail,
    }
    assert run("campaigns", "publish", str(EXAMPLES / "hotline-promo.yaml"), env=env).returncode == 0
    pause = {
        "campaign_id": "hotline-promo",
        "state": "paused",
        "by": "guardrail",
        "reason": "uplift interval below zero",
        "uplift": -0.061,
        "ci_low": -0.094,
        "ci_high": -0.028,
        "uplift_version": 812,
        "ts": 1,
    }
    from touchpoint.clients.kafka_io import deliver_all

    deliver_all(broker, [(guardrail, b"hotline-promo", json.dumps(pause).encode())], "guardrail")
    out = run("campaigns", "status", env=env)
    assert out.returncode == 0, out.stderr
    line = "hotline-promo active paused by the guardrail: uplift interval below zero, uplift -0.061 [-0.094, -0.028]"
    assert out.stdout.split() == line.split()
    out = run("campaigns", "resume", "hotline-promo", "--note", "checked the numbers", env=env)
    assert out.returncode == 0, out.stderr
    got = read_back(broker, guardrail)
    assert [k for k, _ in got] == [b"hotline-promo", b"hotline-promo"]
    resumed = json.loads(got[1][1])
    assert errors("guardrail", resumed) == [] and (resumed["state"], resumed["reason"]) == (
        "active",
        "checked the numbers",
    )
    out = run("campaigns", "status", env=env)
    assert out.stdout.split()[2:4] == ["resumed", "by"] and out.stdout.rstrip().endswith(": checked the numbers")


@pytest.mark.slow
def test_invalid_file_publishes_nothing(broker, tmp_path):
    topic = fresh_topic(broker, "cli-campaigns-bad")
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__CAMPAIGNS": topic}
    for p in sorted(EXAMPLES.glob("*.yaml"))[:3]:
        shutil.copy(p, tmp_path / p.name)
    bad = tmp_path / "zz-bad.yaml"
    bad.write_text(
        (EXAMPLES / "mall-entry-shop.yaml")
        .read_text()
        .replace("id: mall-entry-shop", "id: zz-bad")
        .replace("- {field: age_band, op: in,", "- {field: shoe_size, op: in,")
    )
    out = run("campaigns", "publish", str(tmp_path), env=env)
    assert out.returncode == 1 and out.stdout == ""
    assert (
        out.stderr.startswith(
            f"touchpoint: error: campaigns: {bad}: audience.static[0].field: unknown field 'shoe_size'"
        )
        and out.stderr.count("\n") == 1
    )
    # neither validate nor a dry run publishes
    assert run("campaigns", "validate", str(EXAMPLES), env=env).returncode == 0
    assert run("campaigns", "publish", "--dry-run", str(EXAMPLES), env=env).returncode == 0
    assert read_back(broker, topic) == []
