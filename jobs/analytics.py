"""analytics: traffic, triggers, behaviour and region_metrics as one Flink job, the way the pipeline runs them.

Run apart, each of the four read both normalised topics, parsed every record and de-duplicated it again: on a
small machine those four reads capped the pipeline. Together they read once; the views they share
(sql/shared/, the located events) are planned once and feed every INSERT (docs/performance.md). Each member
stays a job of its own for `touchpoint replay/run` and for its tests.
"""

from jobs import job_module
from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "traffic + triggers + behaviour + region_metrics as one job over one read of the normalised topics"
MEMBERS = ("traffic", "triggers", "behaviour", "region_metrics")


def build(p: Pipeline) -> None:
    for name in MEMBERS:
        job_module(name).build(p)
