"""behaviour: hourly per-subscriber aggregates (calls, SMS, data, G3 share, cells, regions, roaming, handset)
from signaling and xDRs, in event-time windows."""

from jobs import on_time_events
from touchpoint.config import Settings
from touchpoint.flink.pipeline import Pipeline
from touchpoint.schemas import sql_list

DESCRIPTION = "hourly per-subscriber aggregates over signaling and xDRs -> behaviour"
INPUTS = ("signaling", "xdr")
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
    on_time_events(p, REFERENCE)
    p.create_sink("tables/behaviour.sql", "behaviour")
    p.execute("behaviour/contributions.sql", **parameters(p.settings))
    p.execute("behaviour/located.sql")
    p.execute("behaviour/hourly.sql")
    p.execute("behaviour/emit.sql")
