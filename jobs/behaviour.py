"""behaviour: hourly per-subscriber aggregates (calls, SMS, data, G3 share, cells, regions, roaming, handset)
from normalised signaling and xDRs, in event-time windows (issue #4)."""

from touchpoint.config import Settings
from touchpoint.flink import Pipeline
from touchpoint.schemas import sql_list

DESCRIPTION = "hourly per-subscriber aggregates over signaling- and xdr-normalised -> behaviour"
INPUTS = ("signaling_normalised", "xdr_normalised")
OUTPUTS = ("behaviour",)
REFERENCE = ("cells",)


def parameters(settings: Settings) -> dict[str, object]:
    """Values for the ${placeholders} of sql/behaviour/ (same names and meaning as the triggers job's)."""
    return {
        "directory_number": settings.triggers.directory_number,
        "hotline_numbers": sql_list(settings.triggers.hotline_numbers),
        "home_plmns": sql_list(settings.network.home_plmns),
    }


def build(p: Pipeline) -> None:
    p.create_event_source("tables/signaling_normalised.sql", "signaling_normalised")
    p.create_event_source("tables/xdr_normalised.sql", "xdr_normalised")
    for name in REFERENCE:
        p.create_reference(f"tables/{name}.sql", name)
    p.create_sink("tables/behaviour.sql", "behaviour")
    # The shared on-time + de-duplicated views; late events are dropped here (the triggers job DLQs them).
    p.execute("triggers/on_time.sql")
    p.execute("triggers/xdr_on_time.sql")
    p.execute("behaviour/contributions.sql", **parameters(p.settings))
    p.execute("behaviour/located.sql")
    p.execute("behaviour/hourly.sql")
    p.execute("behaviour/emit.sql")
