"""passthrough: copy raw signaling and xDR lines unchanged; the benchmark's baseline for the same I/O."""

from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "benchmark baseline: raw lines copied unchanged -> bench-passthrough"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("passthrough",)
#: The benchmark's baseline, not part of the pipeline.
PIPELINE = False


def build(p: Pipeline) -> None:
    p.create_source("tables/signaling_raw.sql", "signaling")
    p.create_source("tables/xdr_raw.sql", "xdr")
    p.create_sink("tables/passthrough_out.sql", "passthrough", fmt="raw")
    p.execute("passthrough/copy.sql")
