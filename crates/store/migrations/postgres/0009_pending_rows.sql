-- pingan store, version 9: a pending value lives beside the approved one of
-- the same key instead of replacing it, so the approved figure keeps counting
-- in official scores until the new one passes the review.
ALTER TABLE data_values DROP CONSTRAINT data_values_pkey;
ALTER TABLE data_values ADD PRIMARY KEY (region, period, element, source, review);
