"""Flink clusters: the local standalone one (:mod:`touchpoint.runner.cluster.local`), the REST API of any Flink 2.3
cluster (:mod:`touchpoint.runner.cluster.rest`) and job submission (:mod:`touchpoint.runner.cluster.submit`)."""
