package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

/** check_xdr(line, ts_min_ms, ts_max_ms, rats): see {@link IngestCheck}. */
public class CheckXdr extends IngestCheck {
    public CheckXdr() {
        super(
                new String[] {
                    "event_id", "ts", "msisdn", "imsi", "imei", "lac", "cell_id", "rat", "apn", "app", "bytes_up",
                    "bytes_down", "duration_s"
                },
                new String[] {"event_id", "ts", "msisdn", "imsi", "rat", "bytes_up", "bytes_down"},
                null,
                null,
                "rat",
                true);
    }

    @DataTypeHint(
                            "ROW<event_id STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, lac BIGINT, cell_id BIGINT, "
                                    + "rat STRING, apn STRING, app STRING, bytes_up BIGINT, bytes_down BIGINT, duration_s BIGINT, "
                                    + "reason STRING, detail STRING, `raw` STRING>")
    public RowData eval(@DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line, Long tsMinMs, Long tsMaxMs, String rats) {
        return check(line, tsMinMs, tsMaxMs, "", rats);
    }
}
