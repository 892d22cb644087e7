package touchpoint.ingest;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.data.StringData;

/**
 * orders_time(line, ts_min_ms, ts_max_ms, actions, product_kinds): the ts of a valid raw order line, else null;
 * the event time of sql/tables/orders_raw.sql. See {@link IngestCheck#eventTime}.
 */
public class OrdersTime extends ScalarFunction {
    private final CheckOrders check = new CheckOrders();

    public Long eval(
            @DataTypeHint(value = "STRING", bridgedTo = StringData.class) StringData line,
            Long tsMinMs,
            Long tsMaxMs,
            String actions,
            String productKinds) {
        return check.eventTime(line, tsMinMs, tsMaxMs, actions, productKinds);
    }
}
