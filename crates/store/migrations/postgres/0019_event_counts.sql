-- The grouped counts of the stored events (issue 19): what the page
-- 网格事件 and the eight derived elements read, so that neither reads ten
-- million events. Every events import keeps them in its own transaction
-- (each newer version takes its old version's counts away and adds its
-- own); a restore rebuilds them from the events.
CREATE TABLE event_counts (
    region           TEXT NOT NULL,
    month            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    category         TEXT NOT NULL,
    -- '' for call-outs, which have none.
    urgency          TEXT NOT NULL,
    events           BIGINT NOT NULL,
    timely           BIGINT NOT NULL,
    handled          BIGINT NOT NULL,
    joint            BIGINT NOT NULL,
    joint_timely     BIGINT NOT NULL,
    -- Σ (arrived − dispatched).
    response_seconds DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (region, month, kind, category, urgency)
);
-- Handled grid events per handling-time class (HANDLING_EDGES in core).
CREATE TABLE event_classes (
    region TEXT NOT NULL,
    month  TEXT NOT NULL,
    class  INTEGER NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (region, month, class)
);
INSERT INTO event_counts (region, month, kind, category, urgency, events, timely, handled, joint,
                          joint_timely, response_seconds)
SELECT region, month, kind, category, COALESCE(urgency, ''), COUNT(*),
       SUM(CASE WHEN kind = 'grid' AND handled_at - reported_at <=
           CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 WHEN '特急' THEN 1800 END
           THEN 1 ELSE 0 END),
       SUM(CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'grid' AND departments >= 2 THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'grid' AND departments >= 2 AND handled_at - reported_at <=
           CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 WHEN '特急' THEN 1800 END
           THEN 1 ELSE 0 END),
       COALESCE(SUM(arrived_at - dispatched_at), 0)
FROM events GROUP BY region, month, kind, category, COALESCE(urgency, '');
INSERT INTO event_classes (region, month, class, events)
SELECT region, month, CASE WHEN handled_at - reported_at <= 1800 THEN 0
    WHEN handled_at - reported_at <= 7200 THEN 1 WHEN handled_at - reported_at <= 21600 THEN 2
    WHEN handled_at - reported_at <= 86400 THEN 3 WHEN handled_at - reported_at <= 172800 THEN 4
    WHEN handled_at - reported_at <= 259200 THEN 5 WHEN handled_at - reported_at <= 604800 THEN 6
    ELSE 7 END, COUNT(*)
FROM events WHERE kind = 'grid' AND handled_at IS NOT NULL GROUP BY 1, 2, 3;
-- The event list's orders (a region's months or the province's, newest
-- first, event_id breaking ties) and the open grid events (few of ten
-- million: a partial index holding what the overdue count reads).
DROP INDEX events_month_region;
DROP INDEX events_open;
CREATE INDEX events_region_month ON events (region, month, reported_at, event_id);
CREATE INDEX events_month ON events (month, reported_at, event_id);
CREATE INDEX events_open ON events (kind, reported_at, region, month, urgency)
    WHERE handled_at IS NULL AND kind = 'grid';
