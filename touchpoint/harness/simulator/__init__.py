"""Synthetic city: reference data, signaling / xDR / order streams and their ground truth.

``simulate(settings, seed=…, subscribers=…, hours=…, out_dir=…)`` writes under ``out_dir``::

    reference/cells.csv, regions.csv, handsets.csv, profiles.csv, number_ranges.csv
    signaling.jsonl, xdr.jsonl, orders.jsonl     (arrival order; not written when a ``sink`` is given)
    ground_truth.jsonl                           (every trigger of docs/triggers.md, sorted by ts, msisdn, kind)
    summary.json                                 (counts, planted situations, malformed records per reason)

Same seed, parameters and settings give byte-identical files. With ``sink(topic_key, line, key)`` the event
records are handed over in arrival order instead of being written (topic_key: signaling, xdr or orders).
"""

from touchpoint.harness.simulator.emission import MALFORMED_REASONS, TOPICS
from touchpoint.harness.simulator.engine import SimulationSummary, simulate

__all__ = ["MALFORMED_REASONS", "TOPICS", "SimulationSummary", "simulate"]
