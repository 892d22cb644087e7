"""Pure-Python domain logic used by the jobs (no Flink imports here, so it is unit-tested directly)."""
