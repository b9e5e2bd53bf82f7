-- The probe's own state: every Probe event it applied, in the order it applied them.
CREATE TABLE probe_applied (
  applied_seq bigserial PRIMARY KEY,
  consumer    text    NOT NULL,
  ce_id       uuid    NOT NULL,
  key         text    NOT NULL,
  seq         integer NOT NULL
);
CREATE INDEX probe_applied_consumer ON probe_applied (consumer, key, applied_seq);
