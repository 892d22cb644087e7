"""Run jobs in either mode: ``replay`` (bounded, files) or ``streaming`` (Kafka, until cancelled)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jobs import job, job_module, pipeline_order
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline


def build(name: str, settings: Settings, **pipeline_args) -> Pipeline:
    """Job ``name`` assembled in a fresh table environment (``pipeline_args``: the mode and its I/O)."""
    p = Pipeline(settings=settings, job_name=name, datastream=job(name).datastream, **pipeline_args)
    job_module(name).build(p)
    return p


def replay(
    name: str,
    settings: Settings,
    input_dir: Path,
    output_dir: Path,
    progress: Callable[[str, int, float], None] | None = None,
) -> dict[str, Path]:
    """Run job ``name`` (or ``all``: the pipeline's jobs in order, each reading what the earlier ones wrote)
    bounded over ``input_dir``; returns output topic key -> written file. ``progress(job, records written,
    seconds)`` reports while each job runs."""
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input directory {input_dir} not found")
    output_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for each in pipeline_order() if name == "all" else (name,):
        p = build(each, settings, mode="replay", input_dir=input_dir, output_dir=output_dir)
        report = None if progress is None else (lambda n, secs, job=each: progress(job, n, secs))
        written |= p.run_to_completion(append=frozenset(written), progress=report)
    return written


@dataclass
class StreamingJob:
    """A job running on the local mini-cluster, reading and writing Kafka."""

    name: str
    result: object  # pyflink TableResult

    @property
    def client(self):
        return self.result.get_job_client()

    @property
    def job_id(self) -> str:
        return str(self.client.get_job_id())

    def status(self) -> str:
        """Flink's job status; ``ENDED`` once the mini-cluster has forgotten the job (it does, as a job ends):
        :meth:`failure` then says whether it failed and why."""
        try:
            return self.client.get_job_status().result().name
        except Exception:
            return "ENDED"

    def wait(self) -> None:
        self.result.wait()

    def failure(self) -> str | None:
        """Why the job failed, in one line: the innermost Java cause (e.g. "java.io.IOException: No space left on
        device"), not Flink's "Job execution failed" around it; None if it did not fail."""
        try:
            self.result.wait()
        except Exception as e:  # py4j carries the Java exception
            cause = getattr(e, "java_exception", None)
            while cause is not None and cause.getCause() is not None:
                cause = cause.getCause()
            text = cause.toString() if cause is not None else str(e)
            return text.strip().splitlines()[0] if text.strip() else type(e).__name__
        return None

    def stop_with_savepoint(self, directory: Path, timeout: float = 120.0) -> str:
        """Stop the job after a savepoint into ``directory``; returns the savepoint path for ``start(restore=)``.
        (PyFlink 2.3's own ``stop_with_savepoint`` is broken; this calls the Java client.) A job whose tasks are
        still starting refuses savepoints, so this retries until ``timeout``."""
        from pyflink.java_gateway import get_gateway

        fmt = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.client._j_job_client.stopWithSavepoint(False, Path(directory).as_uri(), fmt).get()
            except Exception as e:  # py4j: name the Java cause, not "error calling o613.get"
                cause = getattr(e, "java_exception", None)
                while cause is not None and cause.getCause() is not None:
                    cause = cause.getCause()
                text = cause.toString() if cause is not None else str(e)
                if "Not all required tasks are currently running" not in text or time.monotonic() > deadline:
                    raise RuntimeError(f"savepoint of {self.name} failed: {text}") from None
                time.sleep(1)

    def cancel(self) -> None:
        with contextlib.suppress(Exception):  # already finished or cancelled
            self.client.cancel().result()


def start(
    name: str,
    settings: Settings,
    *,
    group_id: str | None = None,
    bounded_offsets: dict[str, dict[int, int]] | None = None,
    restore: str | None = None,
) -> StreamingJob:
    """Submit job ``name`` streaming (resuming from the savepoint ``restore`` if given); returns while it runs."""
    from touchpoint.flink.checkpoints import check_space

    check_space(settings, name)
    options = {"execution.state-recovery.path": restore} if restore else {}
    p = build(
        name,
        settings,
        mode="streaming",
        group_id=group_id,
        bounded_offsets=bounded_offsets or {},
        flink_options=options,
    )
    return StreamingJob(name, p.submit())


def wait_running(job: StreamingJob, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.status()
        if status == "RUNNING":
            return
        if status in ("FAILED", "CANCELED", "FINISHED", "ENDED"):
            raise RuntimeError(f"job {job.name} is {status}: {job.failure() or 'no error reported'}")
        time.sleep(0.2)
    raise TimeoutError(f"job {job.name} not running after {timeout:.0f} s")
