-- pingan store, version 8: pending values are few among millions, and the
-- dashboard counts them on every view; a partial index keeps that a probe.
CREATE INDEX data_values_pending ON data_values (year) WHERE review = 'pending';
