"""The harness: what tests, demonstrates and measures the product, apart from it. The simulator (a synthetic city
and its ground truth), the demo, the benchmarks, the soak and the state-size model. Jobs, rules, services and the
runner never import it (tests/test_architecture.py); only the CLI does."""
