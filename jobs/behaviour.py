"""behaviour: hourly per-subscriber aggregates (calls, SMS, data, G3 share, cells, regions, roaming, handset)
from signaling and xDRs, in event-time windows."""

from jobs import located_contributions, on_time_events
from touchpoint.flink.pipeline import Pipeline

DESCRIPTION = "hourly per-subscriber aggregates over signaling and xDRs -> behaviour"
INPUTS = ("signaling", "xdr")
OUTPUTS = ("behaviour",)
REFERENCE = ("cells",)


def build(p: Pipeline) -> None:
    on_time_events(p, REFERENCE)
    located_contributions(p)
    p.create_sink("tables/behaviour.sql", "behaviour")
    p.execute("behaviour/hourly.sql")
    p.execute("behaviour/emit.sql")
