-- pingan store, version 10: 双人核查 confirmed by the second verifier, not
-- only named by the first.
ALTER TABLE verify_records ADD COLUMN confirmed_by TEXT;
ALTER TABLE verify_records ADD COLUMN confirmed_at TEXT;
