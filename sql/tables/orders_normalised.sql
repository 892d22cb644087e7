-- Valid orders, typed (schemas/orders.schema.json); as a source it gets an event-time attribute and watermark.
CREATE TABLE orders_normalised (
  order_id STRING,
  ts BIGINT,
  msisdn STRING,
  product_id STRING,
  product_kind STRING,
  action STRING,
  channel STRING,
  lead_id STRING${time_attributes}
) WITH (
  ${connector}
);
