package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.data.StringData;

/**
 * xdr_time(line, ts_min_ms, ts_max_ms, rats): the ts of a valid raw xDR line, else null; the event time of
 * sql/tables/xdr_raw.sql. See {@link IngestCheck#eventTime}.
 */
public class XdrTime extends ScalarFunction {
    private final CheckXdr check = new CheckXdr();

    public Long eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line,
            Long tsMinMs,
            Long tsMaxMs,
            String rats) {
        return check.eventTime(line, tsMinMs, tsMaxMs, "", rats);
    }
}
