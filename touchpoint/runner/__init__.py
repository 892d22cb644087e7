"""The runner layer: how a job runs, above the jobs it runs. ``embedded``: a bounded replay or a streaming run in
this process's mini-cluster, with stop-with-savepoint; ``cluster``: a standalone Flink cluster, local or remote,
and submitting to it."""
