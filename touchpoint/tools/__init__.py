"""Tools that drive the rest end to end: the demo, the benchmark, the loader benchmark and the decision-state size
model."""
