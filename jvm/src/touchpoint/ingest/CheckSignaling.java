package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

/** check_signaling(line, ts_min_ms, ts_max_ms, event_types, rats): see {@link IngestCheck}. */
public class CheckSignaling extends IngestCheck {
    public CheckSignaling() {
        super(
                new String[] {
                    "event_id", "event_type", "ts", "msisdn", "imsi", "imei", "lac", "cell_id", "rat", "vlr_plmn",
                    "called_number", "calling_number", "duration_s", "forward_to"
                },
                new String[] {"event_id", "event_type", "ts", "msisdn", "imsi"},
                "event_type",
                "unknown_event_type",
                "rat",
                true);
    }

    @DataTypeHint(
                            "ROW<event_id STRING, event_type STRING, ts BIGINT, msisdn STRING, imsi STRING, imei STRING, "
                                    + "lac BIGINT, cell_id BIGINT, rat STRING, vlr_plmn STRING, called_number STRING, "
                                    + "calling_number STRING, duration_s BIGINT, forward_to STRING, "
                                    + "reason STRING, detail STRING, `raw` STRING>")
    public RowData eval(@DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line, Long tsMinMs, Long tsMaxMs, String eventTypes, String rats) {
        return check(line, tsMinMs, tsMaxMs, eventTypes, rats);
    }
}
