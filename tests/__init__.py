"""Tests, laid out like the code they test:

- ``udfs/``: the pure rules, no Flink, no services (fast);
- ``jobs/``: each Flink job in replay (and streaming where it matters) against the ground truth or an
  independent recomputation (marked slow);
- ``flink/``, ``clickhouse/``, ``dashboards/``, ``clients/``, ``infra/``, ``simulator/``, ``tools/``, ``cli/``: the
  subpackages of ``touchpoint`` of the same names, against a real broker, ClickHouse and Flink where they use one;
- top level: settings, schemas, and the architecture rules every module follows.

Fixtures shared by all are in conftest.py, helpers in support.py.
"""
