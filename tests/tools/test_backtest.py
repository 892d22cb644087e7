"""``touchpoint campaigns backtest``: a draft tried over the replayed city, competing with the example campaigns."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import pytest
import yaml

from tests.support import ROOT, make_settings, run_cli
from touchpoint.clients.campaigns import load
from touchpoint.config import write_settings
from touchpoint.tools.backtest import backtest, load_history

pytestmark = pytest.mark.slow

DRAFT = {
    "id": "dial-114-ticket-app",
    "name": "114 callers -> ticket app",
    "status": "active",
    "start": "2026-11-01T00:00:00+08:00",
    "end": "2027-01-31T23:59:59+08:00",
    "trigger": {"kind": "dial_114"},
    "offer": {"id": "ticket-app", "message": "Train tickets in two taps: reply APP."},
    "channels": ["sms"],
    "priority": 99,  # above dial-114-12580: it takes that campaign's contacts
    "daily_budget": 3,
    "control_percent": 0,
}

#: the reasons that stop the winning campaign after it was chosen (udfs/decisions.py)
WINNER_STOPPED = {"budget", "contact_cap", "quiet_hours"}


@pytest.fixture(scope="module")
def history_dir(replayed_city, tmp_path_factory):
    """The replayed city's triggers and behaviour with its reference data: a history that needs no replay."""
    city, _, out = replayed_city
    d = tmp_path_factory.mktemp("history")
    for name in ("triggers.jsonl", "behaviour.jsonl"):
        (d / name).symlink_to(out / name)
    (d / "reference").symlink_to(city / "reference")
    return d


def test_a_draft_takes_the_contacts_it_wins_and_no_more(history_dir, tmp_path):
    settings = make_settings(tmp_path / "w")
    published = [i.parsed for i in load([str(ROOT / "campaigns")])]
    (draft_file := tmp_path / "draft.yaml").write_text(yaml.safe_dump(DRAFT))
    drafts = [i.parsed for i in load([str(draft_file)])]
    history = load_history(settings, history_dir)
    result = backtest(settings, drafts, published, history)

    def leads(run, campaign):
        return {r["trigger_id"] for r, lead in run if r["campaign_id"] == campaign and lead and not lead["control"]}

    mine = [r for r, _ in result.with_draft if r["campaign_id"] == DRAFT["id"]]
    dial_114 = [t for t in history.triggers if t["kind"] == "dial_114"]
    assert len(mine) == len(dial_114) > 3  # no audience: every dial_114 trigger is matched
    per_day = Counter(r["trigger_ts"] // 86_400_000 for r in mine if r["result"] == "lead")
    assert per_day and max(per_day.values()) <= DRAFT["daily_budget"]
    # the published 12580 campaign keeps only what the draft did not win
    before, after = leads(result.without, "dial-114-12580"), leads(result.with_draft, "dial-114-12580")
    assert after < before
    # lost where the draft was the winner (then sent, held back as control, or stopped by its budget, the cap or
    # quiet hours); a block of the subscriber (consent, audience of both) stops both alike
    won = {r["trigger_id"] for r in mine if r["result"] != "suppressed" or r["reason"] in WINNER_STOPPED}
    assert before - after <= won
    # the draft's leads replace 12580's one for one at most: no other campaign loses a contact to the cap
    for c in published:
        if c.kind != "dial_114":
            assert leads(result.with_draft, c.id) >= leads(result.without, c.id), c.id
    report = "\n".join(result.report(history))
    assert (
        report.startswith(f"backtest over {len(history.triggers):,} triggers")
        and f"), {len(published)} published" in report
    )
    assert f"triggers matched     {len(mine):>7,}" in report
    assert re.search(rf"dial-114-12580 +{len(before):>6,} -> +{len(after):>6,} leads", report)


def test_cli_prints_the_comparison_and_refuses_a_bad_draft(history_dir, tmp_path):
    config = write_settings(make_settings(tmp_path / "w"), tmp_path / "config.yaml")
    (draft := tmp_path / "draft.yaml").write_text(yaml.safe_dump(DRAFT))
    args = ("campaigns", "backtest", "--config", str(config), "--input", str(history_dir))
    out = run_cli(*args, "--published", str(ROOT / "campaigns"), str(draft))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("backtest over ") and f"draft {DRAFT['id']} (dial_114):" in out.stdout
    assert "published campaigns that would lose contacts to it:\n  dial-114-12580" in out.stdout
    (bad := tmp_path / "bad.yaml").write_text(yaml.safe_dump(DRAFT | {"priority": "high"}))
    out = run_cli(*args, "--published", str(ROOT / "campaigns"), str(bad))
    assert out.returncode != 0 and out.stderr.count("\n") == 1 and "priority" in out.stderr, out.stderr
    out = run_cli("campaigns", "backtest", "--config", str(config), "--input", str(tmp_path / "nowhere"), str(draft))
    assert out.returncode != 0 and "nowhere" in out.stderr and out.stderr.count("\n") == 1, out.stderr


def test_without_published_files_the_campaigns_in_force_come_from_the_topic(broker, tmp_path):
    """The latest version of each id on the campaigns topic, as the decision job keeps them."""
    from touchpoint.clients.campaigns import publish
    from touchpoint.infra import stack
    from touchpoint.tools.backtest import published_campaigns

    settings = make_settings(tmp_path / "w", broker, topics={"campaigns": f"bt-campaigns-{tmp_path.name}"})
    stack.create_topics(broker, [settings.topics.campaigns], 1)
    items = load([str(ROOT / "campaigns")])
    publish(settings, items)
    (edited,) = load([str(ROOT / "campaigns" / "dial-114-12580.yaml")])
    publish(settings, [replace(edited, record=edited.record | {"status": "paused"})])
    got = {c.id: c for c in published_campaigns(settings, None)}
    assert set(got) == {i.parsed.id for i in items}
    assert got["dial-114-12580"].status == "paused"  # the later version wins
