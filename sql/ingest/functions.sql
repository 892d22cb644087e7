-- The ingest rules (udfs/ingest_rules.py) as JVM functions (jvm/src/touchpoint/ingest, built by `make setup`
-- into touchpoint-functions.jar): one parse per line inside Flink. In Python they capped ingest at a quarter
-- of a Kafka passthrough; JSON_VALUE would parse the line again for every field it extracts.
CREATE TEMPORARY FUNCTION check_signaling AS 'touchpoint.ingest.CheckSignaling' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION check_xdr AS 'touchpoint.ingest.CheckXdr' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION check_orders AS 'touchpoint.ingest.CheckOrders' LANGUAGE JAVA;

-- The event time of a raw line (sql/tables/*_raw.sql): its ts when the rules above find it valid, else null.
-- The source's watermark generator calls it first; the check of the same line then reuses that parse.
CREATE TEMPORARY FUNCTION signaling_time AS 'touchpoint.ingest.SignalingTime' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION xdr_time AS 'touchpoint.ingest.XdrTime' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION orders_time AS 'touchpoint.ingest.OrdersTime' LANGUAGE JAVA;
