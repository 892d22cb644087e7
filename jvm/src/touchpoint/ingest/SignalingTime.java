package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.data.StringData;

/**
 * signaling_time(line, ts_min_ms, ts_max_ms, event_types, rats): the ts of a valid raw signaling line, else null;
 * the event time of sql/tables/signaling_raw.sql. See {@link IngestCheck#eventTime}.
 */
public class SignalingTime extends ScalarFunction {
    private final CheckSignaling check = new CheckSignaling();

    public Long eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line,
            Long tsMinMs,
            Long tsMaxMs,
            String eventTypes,
            String rats) {
        return check.eventTime(line, tsMinMs, tsMaxMs, eventTypes, rats);
    }
}
