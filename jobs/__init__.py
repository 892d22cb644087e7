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
