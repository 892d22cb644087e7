-- The ingest rules (udfs/ingest_rules.py) as JVM functions (jvm/src/touchpoint/ingest, built by `make setup`
-- into touchpoint-functions.jar): one parse per line inside Flink. In Python they capped ingest at a quarter
-- of a Kafka passthrough; JSON_VALUE would parse the line again for every field it extracts.
CREATE TEMPORARY FUNCTION check_signaling AS 'touchpoint.ingest.CheckSignaling' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION check_xdr AS 'touchpoint.ingest.CheckXdr' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION check_orders AS 'touchpoint.ingest.CheckOrders' LANGUAGE JAVA;
