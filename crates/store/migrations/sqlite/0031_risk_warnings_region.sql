-- The warnings sent to one region are read on each of its 测评总览 views.
CREATE INDEX risk_warnings_region ON risk_warnings (region, sent_at);
