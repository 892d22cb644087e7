"""Tools that drive the rest end to end: the demo, the benchmark and the decision-state size model."""
