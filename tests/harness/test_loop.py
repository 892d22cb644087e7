"""The loop on a replay (touchpoint/harness/loop.py, the demo's step 10): a city in two periods, the second decided
on what the first measured, held against the simulator's truth; then in ClickHouse, through the results view."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support import make_settings
from touchpoint.harness import loop as the_loop
from udfs.effect import latest
from udfs.variants import counts_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("loop")
    settings = make_settings(tmp / "work")
    ran = the_loop.run_loop(settings, tmp / "city", tmp / "run", seed=7, say=lambda *_: None, **the_loop.CITY)
    return ran, the_loop.checks(ran), tmp


def test_three_campaigns_and_the_programme_are_estimated_and_every_interval_holds_the_truth(loop):
    _, c, _ = loop
    held = [g for g, _, t in c.estimates if g.startswith("campaign|") and t is not None]
    assert len(held) >= 3 and "programme|||" in {g for g, _, _ in c.estimates}
    assert c.estimated and c.covered, [(g, r["ci_low"], r["ci_high"], t) for g, r, t in c.estimates]
    # the campaigns held to the truth are those of a product family of their own
    assert {"dial-114-12580", "mall-entry-shop"} <= {g.split("|")[1] for g in held}
    assert not {"quota-5mb-reminder", "quota-20mb-reminder"} & {g.split("|")[1] for g in held}


def test_the_adaptive_share_moves_to_the_truly_better_variant(loop):
    ran, c, _ = loop
    best, p1, p2 = c.shares["mall-entry-shop"]
    assert best == "fifteen-percent"
    assert abs(p1 - 0.5) < 0.1  # period 1: no counts, the uniform prior
    assert p2 > 0.75  # period 2: mostly the better one, the floor of exploration for the other
    # period 2 drew from exactly period 1's last counts of each variant
    held = {}
    for r in ran.feedback.uplift:
        got = counts_of(r) if r.get("scope") == "variant" else None
        if got and len(got) == 3 and got[2].version > held.get(got[:2], (0, 0, -1))[2]:
            held[got[:2]] = (got[2].leads, got[2].converted, got[2].version)
    _, second = ran.periods
    adaptive = [x for x in second.leads if x["campaign_id"] == "mall-entry-shop" and not x["control"]]
    for x in adaptive:
        drawn = {v: (k["leads"], k["converted"], k["version"]) for v, k in x["variant_counts"].items()}
        assert drawn == {v: held[("mall-entry-shop", v)] for v in drawn}


def test_the_guardrail_pauses_the_harmful_campaign_and_only_it(loop):
    ran, c, _ = loop
    assert c.harmful == {"dial-114-12580"} and set(c.paused) == c.harmful
    assert c.suppressed["dial-114-12580"] > 0 and c.leads_after_pause == 0
    _, second = ran.periods
    reasons = Counter(d["reason"] for d in second.decisions if d["campaign_id"] == "dial-114-12580")
    assert set(reasons) - {"paused_by_guardrail"} <= {"no_consent", "do_not_disturb", "audience", "no_profile"}


def test_clickhouse_results_show_the_loop(loop, tmp_path):
    """The whole day in ClickHouse, as the loader converts it: the results panel counts every arm's leads as the
    leads say and gives each group's uplift as the effect job's latest record."""
    from touchpoint.dashboards.queries import open_queries
    from touchpoint.dashboards.report_data import campaign_results

    ran, _, tmp = loop
    s = ran.settings.model_copy(deep=True)
    s.clickhouse.database = "loop"
    url = f"chdb://{tmp / 'chdb'}"
    the_loop.load(ran, s, url)
    queries = open_queries(s, url)
    try:
        rows, share = campaign_results(queries)
    finally:
        queries.backend.close()
    got = {(r["campaign"], r["arm"]): r for r in rows}
    leads = [x for p in ran.periods for x in p.leads]
    arms = Counter((x["campaign_id"], "control" if x["control"] else "treatment") for x in leads)
    arms.update((x["campaign_id"], f"variant {x['variant_id']}") for x in leads if x.get("variant_id"))
    assert {k: r["leads"] for k, r in got.items()} == dict(arms)
    current = latest(ran.whole.uplift)
    for (cid, arm), r in got.items():
        if arm == "control":
            continue
        gid = f"campaign|{cid}||" if arm == "treatment" else f"variant|{cid}|||{arm.split()[1]}"
        assert r["uplift"] == current[gid]["uplift"], gid
    assert got[("dial-114-12580", "treatment")]["guardrail"].startswith("paused")
    assert {r["variant"] for r in share} == {"mall-entry-shop fifteen-percent", "mall-entry-shop ten-percent"}
