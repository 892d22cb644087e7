"""traffic: events per minute of event time per source and type, from the raw topics' valid events (pipeline
health)."""

from jobs.ingest import read_raw
from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "events per minute per source/type (event-time windows) -> traffic"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("traffic",)


def build(p: Pipeline) -> None:
    read_raw(p, *INPUTS)
    p.create_sink("tables/traffic.sql", "traffic")
    p.execute("traffic/per_minute.sql")
