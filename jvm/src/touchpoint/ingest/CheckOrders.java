package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

/** check_orders(line, ts_min_ms, ts_max_ms, actions, product_kinds): see {@link IngestCheck}. */
public class CheckOrders extends IngestCheck {
    public CheckOrders() {
        super(
                new String[] {
                    "order_id", "ts", "msisdn", "product_id", "product_kind", "action", "channel", "lead_id"
                },
                new String[] {"order_id", "ts", "msisdn", "product_id", "product_kind", "action"},
                "action",
                "unknown_action",
                "product_kind",
                false);
    }

    @DataTypeHint(
                            "ROW<order_id STRING, ts BIGINT, msisdn STRING, product_id STRING, product_kind STRING, "
                                    + "action STRING, channel STRING, lead_id STRING, "
                                    + "reason STRING, detail STRING, `raw` STRING>")
    public RowData eval(@DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line, Long tsMinMs, Long tsMaxMs, String actions, String productKinds) {
        return check(line, tsMinMs, tsMaxMs, actions, productKinds);
    }
}
