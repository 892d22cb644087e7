"""events: everything the pipeline computes in event time, as one Flink job over one read of the raw topics —
ingest, traffic, triggers, behaviour, region_metrics and journeys.

Event time is only as good as the order it is read in. Each raw partition arrives in order (within the
out-of-orderness bound), so the Kafka source's watermark per raw partition is sound whatever key and partitioner
the producers used. A second job reading ingest's normalised topics would see each partition interleave several
raw partitions in the order ingest happened to read them: on a backlog, hours apart. So the members read the raw
lines (checked once by the ingest rules, jobs.ingest.read_raw) and share the views they have in common
(sql/shared/, the located events), which are planned once and feed every INSERT (docs/performance.md). The
normalised topics are still written, for other consumers. Each member stays a job of its own for
`touchpoint replay/run` and for its tests, reading the raw topics the same way.
"""

from jobs import job_module
from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "ingest + traffic + triggers + behaviour + region_metrics + journeys as one job over the raw topics"
MEMBERS = ("ingest", "traffic", "triggers", "behaviour", "region_metrics", "journeys")


def build(p: Pipeline) -> None:
    for name in MEMBERS:
        job_module(name).build(p)
