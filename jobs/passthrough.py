"""passthrough: copy raw signaling and xDR lines unchanged; the benchmark's baseline for the same I/O."""

from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "benchmark baseline: raw lines copied unchanged -> bench-passthrough"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("passthrough",)
#: The benchmark's baseline, not part of the pipeline.
PIPELINE = False


def build(p: Pipeline) -> None:
    # the lines only, without the event time the jobs take from them: no work at all
    p.create_source("tables/lines_in.sql", "signaling", table="signaling_raw")
    p.create_source("tables/lines_in.sql", "xdr", table="xdr_raw")
    p.create_sink("tables/passthrough_out.sql", "passthrough", fmt="raw")
    p.execute("passthrough/copy.sql")
