"""traffic: events per minute of event time per source and type, from the normalised topics (pipeline health)."""

from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "events per minute per source/type (event-time windows) -> traffic"
INPUTS = ("signaling_normalised", "xdr_normalised")
OUTPUTS = ("traffic",)


def build(p: Pipeline) -> None:
    p.create_event_source("tables/signaling_normalised.sql", "signaling_normalised")
    p.create_event_source("tables/xdr_normalised.sql", "xdr_normalised")
    p.create_sink("tables/traffic.sql", "traffic")
    p.execute("traffic/per_minute.sql")
