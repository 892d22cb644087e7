"""Units every rule and job shares: event time is milliseconds since the epoch, data volumes are bytes."""

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: One MB of a data quota or a data volume (binary, as operators bill it).
MB = 1_048_576
