-- Valid records go to the normalised topics, typed, as soon as they are checked (their event time plays no part:
-- the jobs that need it read the raw topics themselves, docs/architecture.md).
INSERT INTO signaling_normalised
SELECT event_id, event_type, ts, msisdn, imsi, imei, lac, cell_id, rat, vlr_plmn,
       called_number, calling_number, duration_s, forward_to
FROM signaling_valid;

INSERT INTO xdr_normalised
SELECT event_id, ts, msisdn, imsi, imei, lac, cell_id, rat, apn, app, bytes_up, bytes_down, duration_s
FROM xdr_valid;

INSERT INTO orders_normalised
SELECT order_id, ts, msisdn, product_id, product_kind, action, channel, lead_id
FROM orders_valid;
