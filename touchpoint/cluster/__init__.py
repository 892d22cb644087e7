"""Flink clusters: the local standalone one (:mod:`touchpoint.cluster.local`), the REST API of any Flink 2.3
cluster (:mod:`touchpoint.cluster.rest`) and job submission (:mod:`touchpoint.cluster.submit`)."""
