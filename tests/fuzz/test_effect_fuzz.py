"""Hostile delivery reports (the outcomes topic, written by outbound systems) and hostile leads through the effect
job (replay): the job finishes, and every report it reads is taken or dead-lettered with a reason, never dropped
silently; the good leads' conversions and expiries are still exactly the rules'."""

from __future__ import annotations

import json

import pytest
from hypothesis import strategies as st

from tests.fuzz.strategies import fixed_corpus, record_like, replay_output
from tests.jobs.test_effect import PRODUCTS, T0, _lead
from tests.support import make_settings
from touchpoint.reference import write_reference_csv
from touchpoint.runner.embedded import replay

pytestmark = pytest.mark.slow
N = 150
LEADS = [_lead(i) for i in range(60)]
REPORT = {"lead_id": LEADS[7]["lead_id"], "msisdn": LEADS[7]["msisdn"], "status": "delivered", "ts": T0 + 3_600_000}
REASONS = {"bad_json", "missing_field", "invalid_value", "unknown_lead", "operator_error"}


def corpus() -> tuple[list, list]:
    reports: list = []
    leads: list = []

    def collect(data: st.DataObject) -> None:
        reports.append(data.draw(record_like(REPORT)))
        # the lead to break is drawn too: what hypothesis draws must not depend on state outside the draw (leads of
        # a campaign with variants have more fields, so another template would draw differently on a re-run)
        template = LEADS[data.draw(st.integers(0, len(LEADS) - 1))]
        leads.append(data.draw(record_like(template | {"lead_id": f"l-h{len(leads):03d}"})))

    fixed_corpus(N, collect)
    return reports[:N], leads[: N // 3]


def test_hostile_reports_and_leads_are_each_accounted_for(tmp_path):
    reports, hostile_leads = corpus()
    inp = tmp_path / "in"
    (inp / "reference").mkdir(parents=True)
    write_reference_csv(inp / "reference" / "products.csv", "products", PRODUCTS)
    lines = [json.dumps(x) for x in LEADS + hostile_leads]
    (inp / "leads.jsonl").write_text("".join(x + "\n" for x in lines))
    report_lines = [json.dumps(r) for r in reports]
    (inp / "outcomes.jsonl").write_text("".join(x + "\n" for x in report_lines))
    (inp / "orders.jsonl").write_text("")
    out = tmp_path / "out"
    replay("effect", make_settings(tmp_path / "work"), inp, out)

    dlq = replay_output(out, "dlq")
    assert {d["reason"] for d in dlq} <= REASONS and {d["source"] for d in dlq} <= {"leads", "outcomes"}
    # a report is read unless its status says it is not a delivery report (the job's own conversions and
    # expiries share the topic); each one read is either a delivery of a known lead or a dead letter
    known = {x["lead_id"] for x in LEADS}

    def read_by_sql(r) -> bool:  # JSON_VALUE(line, '$.status') is 'delivered' or NULL (absent, not a scalar)
        return not isinstance(r, dict) or r.get("status") in ("delivered", None) or isinstance(r["status"], dict | list)

    def sql_ts(v) -> bool:  # TRY_CAST(JSON_VALUE(line, '$.ts') AS BIGINT) is not NULL
        text = v if isinstance(v, str) else json.dumps(v) if isinstance(v, int) and not isinstance(v, bool) else ""
        return text.strip().lstrip("+-").isdigit() and -(2**63) <= int(text) < 2**63

    read_reports = [(line, r) for line, r in zip(report_lines, reports) if read_by_sql(r)]
    dead = [d["raw"] for d in dlq if d["source"] == "outcomes"]
    for line, r in read_reports:
        taken = (
            isinstance(r, dict)
            and isinstance(r.get("lead_id"), str)
            and r["lead_id"] in known
            and r.get("msisdn") is not None
            and sql_ts(r.get("ts"))
        )
        assert taken or line in dead, line
    assert len(dead) <= len(read_reports) and dead
    # every good lead still ends: none was converted (no orders), each open one expired within the data or not
    expired = {o["lead_id"] for o in replay_output(out, "outcomes") if o["status"] == "expired"}
    assert expired <= known | {x.get("lead_id") for x in hostile_leads if isinstance(x, dict)}
    assert not [o for o in replay_output(out, "outcomes") if o["status"] == "converted"]
