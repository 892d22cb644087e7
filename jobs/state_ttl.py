"""State time-to-live for the jobs' Python operators: a backstop behind the timers that prune their state."""

from pyflink.common.time import Duration, Time
from pyflink.datastream.state import StateTtlConfig

from udfs.units import HOUR_MS


def backstop_ttl(hours: float) -> StateTtlConfig:
    """A backstop only (processing time): event-time timers prune state as rules stop needing it.

    The background cleanups are named explicitly: PyFlink 2.3's defaults build Duration.of_days(30) through a
    py4j gateway, which exists in a client process but not in a cluster's TaskManager, where opening the state
    failed. The period is not passed to Java (which keeps its own default), so no gateway is needed."""
    return (
        StateTtlConfig.new_builder(Time.milliseconds(int(hours * HOUR_MS)))
        .disable_cleanup_in_background()
        .cleanup_incrementally(5, False)
        .cleanup_in_rocksdb_compact_filter(1000, periodic_compaction_time=Duration(None))
        .build()
    )
