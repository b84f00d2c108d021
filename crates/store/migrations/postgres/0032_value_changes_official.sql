-- Whether a change counts in official scores (approved values, not a
-- submission in review): a risk run is stale only after such a change.
-- Earlier rows are taken as official.
ALTER TABLE value_changes ADD COLUMN official BOOLEAN NOT NULL DEFAULT TRUE;
