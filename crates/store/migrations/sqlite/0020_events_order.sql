-- The list's orders without the month: an event's month is its report
-- time's (China time), so (reported_at, event_id) orders as (month,
-- reported_at, event_id) did, and a month is a range of reported_at; the
-- indexes a large load makes again are smaller and sort faster.
-- (PostgreSQL's 0020 also makes the codes compare as bytes, which is how
-- SQLite compares text already.)
DROP INDEX events_region_month;
DROP INDEX events_month;
CREATE INDEX events_region_time ON events (region, reported_at, event_id);
CREATE INDEX events_time ON events (reported_at, event_id);
