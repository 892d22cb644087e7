"""Flink jobs: one module per job, each exposing ``DESCRIPTION`` and ``build(pipeline)``.

A job only wires tables to SQL recipes; ``touchpoint.runner`` decides whether it runs as a bounded
replay over files or streaming over Kafka.
"""

from importlib import import_module

#: job name -> module; the CLI, the demo and the benchmark read this.
JOBS = {
    "ingest": "jobs.ingest",
    "traffic": "jobs.traffic",
    "triggers": "jobs.triggers",
    "behaviour": "jobs.behaviour",
    "decisions": "jobs.decisions",
    "region_metrics": "jobs.region_metrics",
    "passthrough": "jobs.passthrough",
}


def job_module(name: str):
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; jobs: {', '.join(JOBS)}")
    return import_module(JOBS[name])


def on_time_events(p, reference: tuple[str, ...] = ()) -> None:
    """Both normalised sources with event time, the ``reference`` tables, and the shared on-time, de-duplicated
    views ``signaling_unique`` / ``xdr_unique`` (sql/shared/signaling_on_time.sql, xdr_on_time.sql). Late events are
    dropped by these views; the triggers job is the one that sends them to the DLQ."""
    p.create_event_source("tables/signaling_normalised.sql", "signaling_normalised")
    p.create_event_source("tables/xdr_normalised.sql", "xdr_normalised")
    for name in reference:
        p.create_reference(f"tables/{name}.sql", name)
    p.execute("shared/signaling_on_time.sql")
    p.execute("shared/xdr_on_time.sql")
