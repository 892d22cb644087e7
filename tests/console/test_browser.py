"""The console in a real browser: headless Chromium (the Debian package) driven by Playwright, against the console
served by `touchpoint console serve`, a real broker, the Debian ClickHouse server holding the dashboards' sample
day, and the decision job running streaming.

A marketer logs in (after a stranger's failed log-ins were slowed down) and reads the list's live figures; writes
a draft with a bad field and sees that field's error, its input kept; previews the fixed draft and gets exactly
what `touchpoint campaigns backtest` prints; publishes it, and the running decision job makes a lead of the next
matching trigger; pauses it, and the next one is suppressed with its reason. Each change is on the audit topic
and, loaded, in ClickHouse. A viewer cannot publish, even with a forged request; a campaign name holding
``<script>`` is shown as text. Every page is photographed into work/artifacts/console/."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.dashboards.sample import load_sample
from tests.jobs.test_decisions import HANDSETS, PROFILES, REGIONS, _trigger, t
from tests.support import TOUCHPOINT, make_settings, run_cli
from tests.tools.test_backtest import DRAFT as BACKTEST_DRAFT
from touchpoint import ROOT
from touchpoint.clients import reference
from touchpoint.clients.campaigns import load, publish
from touchpoint.clients.kafka_io import RateLimitedProducer, advance_event_time, consume
from touchpoint.config import Settings, write_settings
from touchpoint.console import form as forms
from touchpoint.console.definitions import KINDS
from touchpoint.infra import stack
from udfs.effect import uplift

pytestmark = pytest.mark.slow

SHOTS = ROOT / "work" / "artifacts" / "console"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: campaign changes reach the running decision job through its own Kafka source: give them this long
PROPAGATION_S = 3
REFRESH_S = 5
#: the backtest test's draft (dial_114, priority 99 above dial-114-12580, a budget of 3 a day), named with a script
DRAFT = BACKTEST_DRAFT | {"name": "<script>window.pwned=1</script> 114 callers -> ticket app"}


@dataclass
class World:
    settings: Settings
    config: Path
    url: str
    history: Path
    expected: dict
    log: Path
    proc: subprocess.Popen | None = None

    def serve(self) -> None:
        self.proc, self.url = _serve(self.config, self.log)

    def stop(self) -> None:
        """Stop the console: it holds the embedded ClickHouse's directory while it runs (one process each)."""
        if self.proc is not None:
            self.proc.terminate()
            assert self.proc.wait(20) in (0, -15, 143), self.log.read_text()
            self.proc = None


def _history(replayed_city, d: Path, topics: dict[str, str]) -> Path:
    """The replayed city's triggers and behaviour with its reference data: a history that needs no replay (its
    files named after the topics, as a replay with these settings names them)."""
    city, _, out = replayed_city
    for name in ("triggers", "behaviour"):
        (d / f"{topics[name]}.jsonl").symlink_to(out / f"{name}.jsonl")
    (d / "reference").symlink_to(city / "reference")
    return d


def _serve(config: Path, log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [TOUCHPOINT, "console", "serve", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    assert first and first[0].startswith("console: http://127.0.0.1:"), (first, log.read_text())
    return proc, first[0].split(": ", 1)[1].strip().rstrip("/")


@pytest.fixture(scope="module")
def world(broker, replayed_city, tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("!!! the browser test needs the Debian package chromium; run `make setup` and re-run !!!")
    suffix = uuid.uuid4().hex[:8]
    keys = ("triggers", "journey_events", "behaviour", "campaigns", "journeys", "profiles", "regions", "handsets")
    keys += ("leads", "decisions", "dlq", "uplift", "guardrail", "console_audit")
    topics = {k: f"{k}-{suffix}" for k in keys}
    stack.create_topics(broker, list(topics.values()), 1)
    tmp = tmp_path_factory.mktemp("console-browser")
    ref = tmp / "reference"
    ref.mkdir()
    (ref / "profiles.csv").write_text(PROFILES)
    (ref / "handsets.csv").write_text(HANDSETS)
    (ref / "regions.csv").write_text(REGIONS)
    history = _history(replayed_city, tmp_path_factory.mktemp("history"), topics)
    settings = make_settings(
        tmp / "work",
        broker,
        topics=topics,
        paths={"reference_dir": str(ref)},
        kafka={"group_prefix": f"tp-console-{suffix}"},
        event_time={"idle_timeout_ms": 1000},
        flink={"checkpoint_interval_ms": 1000},
        # embedded chdb: the panels' SQL needs a modern engine (Debian's 18.16 server lacks joins of three tables)
        clickhouse={"url": f"chdb://{tmp / 'chdb'}"},
        console={"history_dir": str(history), "refresh_seconds": REFRESH_S, "failed_logins": 2},
        grafana={"url": "https://grafana.example.com"},
    )
    reference.publish(settings, ref)
    expected = load_sample(settings)  # the dashboards' sample day, with the project's migrations
    publish(settings, load([str(ROOT / "campaigns")]))  # the example campaigns are in force
    config = write_settings(settings, tmp / "touchpoint.yaml")
    for name, role in (("ana", "marketer"), ("vic", "viewer"), ("root", "admin")):
        out = run_cli("console", "add-user", name, "--role", role, "--config", str(config), input=f"{name}-password\n")
        assert out.returncode == 0, out.stderr
    from touchpoint.runner.embedded import start, wait_running

    job = start("decisions", settings)
    w = World(settings, config, "", history, expected, tmp / "console.log")
    w.serve()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        wait_running(job)
        yield w
    finally:
        w.stop()
        job.cancel()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser, world: World, user: str | None):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    if user:
        page.goto(world.url + "/login")
        page.fill("input[name=name]", user)
        page.fill("input[name=password]", f"{user}-password")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/campaigns$"))
    return page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _fill(page, record: dict) -> None:
    """Type a definition into the editor, field by field."""
    for path, text in forms.to_raw(forms.layout(KINDS["campaigns"].schema), record).items():
        field = page.locator(f'[name="{path}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(text)
        else:
            field.fill(text)


def _cell(row, col: str) -> int:
    return int(row.locator(f'td[data-col="{col}"]').inner_text().replace(",", ""))


def test_log_in_slows_strangers_down_and_the_list_shows_live_figures(browser, world):
    page = _page(browser, world, None)
    page.goto(world.url + "/campaigns")
    assert page.url.startswith(world.url + "/login")  # nothing but the log-in page without a session
    _shot(page, "login")
    for status in (401, 401, 429):
        page.fill("input[name=name]", "mallory")
        page.fill("input[name=password]", "guess-guess")
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as resp:
            page.click("button[type=submit]")
        assert resp.value.status == status
    assert "Too many failed log-ins" in page.inner_text("#login-error")
    time.sleep(1.2)  # the wait after the 2nd failure is over
    page.fill("input[name=name]", "ana")
    page.fill("input[name=password]", "ana-password")
    page.click("button[type=submit]")
    page.wait_for_url(world.url + "/campaigns")
    assert page.locator(".banner.problem").all_inner_texts() == []  # Kafka and ClickHouse both reached
    want = world.expected["funnel"]
    for cid, f in want.items():
        row = page.locator(f'tr[data-key="{cid}"]')
        assert [_cell(row, c) for c in ("triggers", "leads", "delivered", "converted")] == [
            f["triggers"],
            f["leads"],
            f["delivered"],
            f["converted"],
        ], cid
        u = uplift(*world.expected["control"][cid].values(), min_sample=3)
        bars = row.locator("svg.interval")
        if u.enough_data:  # the uplift's interval is drawn from the effect job's record
            assert (
                bars.get_attribute("data-low") == f"{u.ci_low:.4f}"
                and bars.get_attribute("data-high") == f"{u.ci_high:.4f}"
            )
        else:
            assert bars.count() == 0
    no_figures = page.locator('tr[data-key="power-on-welcome"] td[data-col="triggers"]').inner_text()
    assert no_figures == ""  # in force, no decisions in ClickHouse
    assert (
        page.locator("a", has_text="Grafana").first.get_attribute("href")
        == "https://grafana.example.com/d/touchpoint-campaigns"
    )
    _shot(page, "campaigns")
    page.goto(world.url + "/journeys")
    _shot(page, "journeys")


def _cli_backtest(world: World, tmp_path: Path) -> str:
    (draft := tmp_path / "draft.yaml").write_text(yaml.safe_dump(DRAFT))
    args = ("--config", str(world.config), "--input", str(world.history), "--published", str(ROOT / "campaigns"))
    out = run_cli("campaigns", "backtest", *args, str(draft))
    assert out.returncode == 0, out.stderr
    return out.stdout


def _numbers(cli: str) -> dict:
    """What the CLI prints for the draft, as the page's figures."""

    def n(s: str) -> int:
        return int(s.replace(",", ""))

    suppressed = re.search(r"^  suppressed +(.*)$", cli, re.M).group(1)
    regions = cli.split("top regions of its leads:")[1].split("published campaigns")[0]
    return {
        "span": re.match(r"backtest over ([\d,]+) triggers \(([^)]*)\), (\d+) published", cli).groups(),
        "matched": n(re.search(r"triggers matched +([\d,]+)", cli).group(1)),
        "audience": n(re.search(r"audience passed +([\d,]+)", cli).group(1)),
        "leads": n(re.search(r"^  leads +([\d,]+)", cli, re.M).group(1)),
        "control": n(re.search(r"\(\+ ([\d,]+) control", cli).group(1)),
        "suppressed": {}
        if suppressed == "none"
        else {k: n(v) for k, v in (p.split("=") for p in suppressed.split(", "))},
        "per_day": [(d, n(k)) for d, k in re.findall(r"^    (\d{4}-\d\d-\d\d) +([\d,]+)", cli, re.M)],
        "regions": [(r, n(k)) for r, k in re.findall(r"^    (\S+) +([\d,]+)  ", regions, re.M)],
        "lost": [(c, n(a), n(b)) for c, a, b in re.findall(r"^  (\S+) +([\d,]+) -> +([\d,]+) leads", cli, re.M)],
    }


def _page_numbers(page) -> dict:
    def rows(selector: str, attr: str) -> list[tuple[str, int]]:
        return [
            (r.get_attribute(attr), int(r.locator("td.int").first.inner_text().replace(",", "")))
            for r in page.locator(selector).all()
        ]

    span = re.match(r"Backtest over ([\d,]+) triggers \(([^)]*)\), (\d+) published", page.inner_text("#preview-span"))
    lost = [
        (r.get_attribute("data-campaign"), *(int(c.inner_text().replace(",", "")) for c in r.locator("td.int").all()))
        for r in page.locator("table.lost tr[data-campaign]").all()
    ]
    return {
        "span": span.groups(),
        **{k: int(page.inner_text(f'[data-figure="{k}"]')) for k in ("matched", "audience", "leads", "control")},
        "suppressed": dict(rows("table.suppressed tr", "data-reason")),
        "per_day": rows("table.per-day tr[data-day]", "data-day"),
        "regions": rows("table.regions tr", "data-region"),
        "lost": lost,
    }


def test_a_bad_field_is_named_and_the_fixed_draft_previews_as_the_cli(browser, world, tmp_path):
    page = _page(browser, world, "ana")
    page.click("#new")
    _fill(page, DRAFT | {"priority": "high"})
    page.click("#check")
    error = page.locator('.field-error[data-field="priority"]')
    assert error.inner_text() == "priority: 'high' is not of type 'integer'"
    assert page.input_value('[name="priority"]') == "high" and page.input_value('[name="name"]') == DRAFT["name"]
    assert page.input_value('[name="offer.message"]') == DRAFT["offer"]["message"]  # everything typed is kept
    _shot(page, "editor-errors")
    page.fill('[name="priority"]', "99")
    page.click("#preview")
    page.wait_for_selector("#preview-result, #problems")
    assert page.locator("#problems, #preview-problem").all_inner_texts() == []
    _shot(page, "preview")
    got = _page_numbers(page)
    want = _numbers(_cli_backtest(world, tmp_path))
    assert got == want
    assert want["leads"] > 0 and want["lost"] and want["lost"][0][0] == "dial-114-12580"
    bars = page.locator("#leads-chart rect.bar").all()
    assert [(b.get_attribute("data-day"), int(b.get_attribute("data-leads"))) for b in bars] == want["per_day"]
    _shot(page, "preview")
    # a new campaign cannot take the id of one in force
    page.fill('[name="id"]', "dial-114-12580")
    page.click("#publish")
    taken = page.locator('.field-error[data-field="id"]').inner_text()
    assert taken == "id: campaign 'dial-114-12580' is already in force: open it and edit it instead"


def _decision(world: World, trigger_id: str, campaign: str) -> dict:
    topic = world.settings.topics.decisions

    def mine(got) -> list[dict]:
        return [d for d in map(json.loads, got[topic]) if (d["trigger_id"], d["campaign_id"]) == (trigger_id, campaign)]

    got = consume(world.settings.kafka, [topic], until=lambda o: bool(mine(o)), timeout_s=90)
    found = mine(got)
    assert found, f"no decision of {campaign} for {trigger_id}"
    return found[0]


def _trigger_now(world: World, tid: str, n: int, ts: int) -> None:
    with RateLimitedProducer(world.settings) as p:
        p.send("triggers", json.dumps(_trigger(tid, n, "dial_114", ts, called_number="114")).encode())
    advance_event_time(world.settings, "triggers", ts + 60_000)


def test_publish_makes_a_lead_and_pause_makes_a_suppression_each_change_audited(browser, world):
    s, cid = world.settings, DRAFT["id"]
    page = _page(browser, world, "ana")
    page.goto(world.url + "/campaigns/-/new")
    _fill(page, DRAFT)
    page.click("#publish")
    page.wait_for_url(f"{world.url}/campaigns/{cid}")
    # the name is text: shown as typed, never run
    assert page.inner_text("#definition-name") == DRAFT["name"]
    assert page.evaluate("() => window.pwned") is None
    on_topic = consume(s.kafka, [s.topics.campaigns], idle_s=2, timeout_s=30)[s.topics.campaigns]
    assert json.loads(on_topic[-1]) == DRAFT

    time.sleep(PROPAGATION_S)
    _trigger_now(world, "t-console-1", 1, t(1, 10))
    lead = _decision(world, "t-console-1", cid)
    assert (lead["result"], lead["lead_id"] != "") == ("lead", True)
    _shot(page, "detail-published")

    page.fill("input[name=note]", "tickets sold out")
    page.click("#pause")
    page.wait_for_selector("#resume")
    assert page.inner_text("#status") == "paused"
    time.sleep(PROPAGATION_S)
    _trigger_now(world, "t-console-2", 5, t(1, 11))
    held = _decision(world, "t-console-2", cid)
    assert (held["result"], held["reason"]) == ("suppressed", "campaign_inactive")

    audit = [
        json.loads(v)
        for v in consume(s.kafka, [s.topics.console_audit], idle_s=2, timeout_s=30)[s.topics.console_audit]
    ]
    assert [(a["action"], a["user"], a["target"]) for a in audit] == [("publish", "ana", cid), ("pause", "ana", cid)]
    assert audit[1]["changes"] == ['status: "active" -> "paused"'] and audit[1]["note"] == "tickets sold out"
    assert json.loads(audit[0]["after"]) == DRAFT and audit[0]["before"] == ""

    # loaded like any topic: the change log in ClickHouse, and on the campaign's page
    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.loader import load as load_topics

    only_audit = s.model_copy(deep=True)
    only_audit.loader.topics = ["console_audit"]
    world.stop()
    try:
        load_topics(only_audit, until_idle=3, progress=False)
        with connect(s) as ch:
            rows = ch.query(
                f"SELECT action, user, role, changes FROM {s.clickhouse.database}.console_audit ORDER BY ts_ms"
            )
    finally:
        world.serve()
    assert [r[:3] for r in rows] == [("publish", "ana", "marketer"), ("pause", "ana", "marketer")]
    assert list(rows[1][3]) == audit[1]["changes"]
    page = _page(browser, world, "ana")  # the console again, on another port
    page.goto(f"{world.url}/campaigns/{cid}")
    assert page.locator("#history tbody tr").count() == 2
    _shot(page, "detail-paused")


def test_a_guardrail_pause_is_shown_with_its_reason_and_lifted_by_a_marketer(browser, world):
    s, cid = world.settings, "dial-114-12580"
    pause = {"campaign_id": cid, "state": "paused", "by": "guardrail", "reason": "uplift interval below zero"}
    pause |= {"uplift": -0.2, "ci_low": -0.3, "ci_high": -0.1, "uplift_version": 7, "ts": t(1, 9)}
    with RateLimitedProducer(s) as p:
        p.send("guardrail", json.dumps(pause).encode(), key=cid.encode())
    page = _page(browser, world, "ana")
    page.goto(f"{world.url}/campaigns/{cid}")
    for _ in range(20):  # the console follows the topic: the pause arrives within a second or two
        if page.locator("#guardrail").count():
            break
        time.sleep(0.5)
        page.reload()
    assert "Paused by the guardrail: uplift interval below zero (uplift -20.0 pt)" in page.inner_text("#guardrail")
    page.fill("#guardrail input[name=note]", "offer text fixed")
    page.click("#resume-guardrail")
    page.wait_for_selector(".banner.notice")
    assert page.locator("#guardrail").count() == 0
    latest = json.loads(consume(s.kafka, [s.topics.guardrail], idle_s=2, timeout_s=30)[s.topics.guardrail][-1])
    assert (latest["campaign_id"], latest["state"], latest["by"], latest["reason"]) == (
        cid,
        "active",
        "ana",
        "offer text fixed",
    )
    assert latest["ts"] > pause["ts"]
    audit = json.loads(consume(s.kafka, [s.topics.console_audit], idle_s=2, timeout_s=30)[s.topics.console_audit][-1])
    assert (audit["action"], audit["target"], audit["changes"]) == ("resume", cid, ['guardrail: "paused" -> "active"'])


def test_a_viewer_cannot_publish_or_pause(browser, world):
    s, cid = world.settings, DRAFT["id"]
    before = consume(s.kafka, [s.topics.campaigns], idle_s=2, timeout_s=30)[s.topics.campaigns]
    page = _page(browser, world, "vic")
    page.goto(f"{world.url}/campaigns/{cid}")
    assert page.locator("#pause, #resume, #edit").count() == 0
    assert page.locator("#new").count() == 0
    token = page.locator("input[name=csrf_token]").first.input_value()
    for path in (f"/campaigns/{cid}/resume", "/campaigns/-/editor"):
        forged = page.request.post(world.url + path, form={"csrf_token": token, "action": "publish", **_flat(DRAFT)})
        assert forged.status == 403, path
    assert page.goto(world.url + "/campaigns/-/new").status == 403
    after = consume(s.kafka, [s.topics.campaigns], idle_s=2, timeout_s=30)[s.topics.campaigns]
    assert after == before  # nothing published
    _shot(page, "viewer")


def _flat(record: dict) -> dict[str, str]:
    return forms.to_raw(forms.layout(KINDS["campaigns"].schema), record)


def test_the_micro_region_map_is_served_from_clickhouse_and_refreshed(browser, world):
    page = _page(browser, world, "root")
    page.goto(world.url + "/map")
    circles = {c.get_attribute("data-id") for c in page.locator("circle.region").all()}
    assert circles == set(world.expected["latest"])
    latest = world.expected["latest"].values()
    top = sorted((r for r in latest if r[10] > 0), key=lambda r: (-r[10], r[11], r[1]))[:10]
    assert [r.locator("td.text").first.inner_text() for r in page.locator("table.top tbody tr").all()] == [
        r[1] for r in top
    ]
    page.wait_for_selector("#live[data-refreshed]", timeout=(REFRESH_S * 3) * 1000)  # fetched again, live
    assert page.locator("circle.region").count() == len(circles)
    _shot(page, "map")
    page.goto(world.url + "/users")
    assert {r.get_attribute("data-user") for r in page.locator("tr[data-user]").all()} == {"ana", "vic", "root"}
    _shot(page, "users")
