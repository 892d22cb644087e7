"""Flink plumbing shared by every job: the table environment, the two I/O modes (replay, streaming), the SQL
recipe runner, and starting jobs. Jobs themselves live in the top-level ``jobs`` package."""
