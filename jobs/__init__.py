"""Flink jobs: one module per job. A job module declares what it reads and writes and wires tables to SQL recipes
in ``build(pipeline)``; touchpoint.runner.embedded runs it as a bounded replay over files or streaming over Kafka.

Each module declares, by topic key (the fields of the ``topics`` settings):

- ``DESCRIPTION``: one line for ``touchpoint --help``;
- ``INPUTS`` / ``OUTPUTS``: the topics it reads and writes. The order in which ``replay all`` runs the jobs, and
  the jobs upstream of any one of them, are derived from these: a job runs after every job that writes a topic it
  reads;
- ``FEEDBACK`` (optional): topics it reads that a job after it writes, closing a loop (the decision job reads the
  effect job's variant counts): read when they are there, and no edge of the pipeline order;
- ``REFERENCE`` (optional): the reference data it joins (cells, regions, ...): topics when streaming, the CSV files
  of a replay;
- ``DATASTREAM`` (optional): it mixes Python DataStream operators into its SQL (decisions); a group does when one
  of its members does;
- ``PIPELINE = False`` (optional): not part of the marketing pipeline (the benchmark's passthrough baseline);
- ``MEMBERS`` (a group job only): the jobs it runs as one Flink job, sharing one read of their inputs and the views
  they have in common. Its inputs and outputs are its members'; the pipeline runs the group, not the members,
  which stay runnable on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from types import ModuleType

#: job name -> module, in the order ties are broken when deriving the pipeline order.
JOBS = {
    "ingest": "jobs.ingest",
    "traffic": "jobs.traffic",
    "triggers": "jobs.triggers",
    "behaviour": "jobs.behaviour",
    "region_metrics": "jobs.region_metrics",
    "journeys": "jobs.journeys",
    "events": "jobs.events",
    "decisions": "jobs.decisions",
    "effect": "jobs.effect",
    "passthrough": "jobs.passthrough",
}


@dataclass(frozen=True)
class Job:
    """What a job module declares (see the package docstring)."""

    name: str
    description: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    datastream: bool
    pipeline: bool
    #: a group job: the jobs it runs as one
    members: tuple[str, ...] = ()
    #: the reference data sets it reads (topic keys)
    reference: tuple[str, ...] = ()
    #: topics it reads that a later job writes (a loop): not an edge of the pipeline order
    feedback: tuple[str, ...] = ()


def job_module(name: str) -> ModuleType:
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; jobs: {', '.join(JOBS)}")
    return import_module(JOBS[name])


@cache
def job(name: str) -> Job:
    """What job ``name`` declares."""
    m = job_module(name)
    members = tuple(getattr(m, "MEMBERS", ()))
    if members:  # a group reads and writes what its members do
        inputs = tuple(dict.fromkeys(k for n in members for k in job(n).inputs))
        outputs = tuple(dict.fromkeys(k for n in members for k in job(n).outputs))
        reference = tuple(dict.fromkeys(k for n in members for k in job(n).reference))
        feedback = tuple(dict.fromkeys(k for n in members for k in job(n).feedback))
    else:
        inputs, outputs, reference = tuple(m.INPUTS), tuple(m.OUTPUTS), tuple(getattr(m, "REFERENCE", ()))
        feedback = tuple(getattr(m, "FEEDBACK", ()))
    return Job(
        name,
        m.DESCRIPTION,
        inputs,
        outputs,
        getattr(m, "DATASTREAM", False) or any(job(n).datastream for n in members),
        getattr(m, "PIPELINE", True),
        members,
        reference,
        feedback,
    )


def part_of(name: str) -> str | None:
    """The group job that runs job ``name`` in the pipeline, if any."""
    return next((n for n in JOBS if name in job(n).members), None)


def pipeline_order() -> list[str]:
    """The pipeline's jobs, each after every job that writes a topic it reads (ties in :data:`JOBS` order); a group
    job stands for its members."""
    jobs = [job(n) for n in JOBS if job(n).pipeline and part_of(n) is None]
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [
            j
            for j in jobs
            if j.name not in done
            and not any(set(j.inputs) & set(w.outputs) for w in jobs if w.name not in done and w is not j)
        ]
        if not ready:
            raise ValueError(
                f"jobs read each other's outputs in a cycle: {[j.name for j in jobs if j.name not in done]}"
            )
        done.append(ready[0].name)
    return done


def upstream(name: str) -> list[str]:
    """Job ``name`` and every pipeline job whose output reaches it, in pipeline order (a member of a group job:
    the group and what reaches it)."""
    order = pipeline_order()
    needed = {part_of(name) or name}
    for n in reversed(order):
        if n in needed:
            needed |= {w for w in order if set(job(n).inputs) & set(job(w).outputs) and w != n}
    return [n for n in order if n in needed]


def on_time_events(p, reference: tuple[str, ...] = ()) -> None:
    """Raw signaling and xDRs with event time, checked by the ingest rules (jobs.ingest.read_raw), the
    ``reference`` tables, and the shared on-time, de-duplicated views ``signaling_unique`` / ``xdr_unique``
    (sql/shared/). Late events are dropped by these views; the triggers job is the one that sends them to the DLQ."""
    from jobs.ingest import on_time, read_raw

    read_raw(p, "signaling", "xdr")
    for name in reference:
        p.create_reference(f"tables/{name}.sql", name)
    on_time(p, "signaling")
    on_time(p, "xdr")


def contribution_parameters(settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/shared/contributions.sql (same names and meaning as the triggers
    job's)."""
    from touchpoint.schemas import sql_list

    return {
        "directory_number": settings.triggers.directory_number,
        "hotline_numbers": sql_list(settings.triggers.hotline_numbers),
        "home_plmns": sql_list(settings.network.home_plmns),
    }


def located_contributions(p) -> None:
    """What each on-time event adds to its subscriber's hour and to its micro-region's window, with the region of
    its cell: the view ``located_contributions`` (sql/shared/contributions.sql), read by behaviour and
    region_metrics, so that a job running both joins every event with the cells once. After
    :func:`on_time_events` with the ``cells`` reference table."""
    p.execute("shared/contributions.sql", **contribution_parameters(p.settings))
