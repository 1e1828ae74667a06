-- A window TVF report over datagen: page views generated at 2,000 rows per second of
-- processing time for 20 seconds (40,000 rows), each stamped with the time it was made
-- (datagen's timestamps are at most 'fields.ts.max-past' ms old: 0 by default);
-- every 5-second tumbling window prints, once the watermark passes its end, the views and
-- the distinct users of each page.
--
--   weir sql -f examples/sql/sql/window_report.sql

CREATE TABLE page_views (
    user_id INT,
    page    INT,
    ts      TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
    'connector' = 'datagen',
    'rows-per-second' = '2000',
    'number-of-rows' = '40000',
    'fields.user_id.min' = '1',
    'fields.user_id.max' = '50',
    'fields.page.min' = '1',
    'fields.page.max' = '3'
);

SELECT window_start, window_end, page, COUNT(*) AS views, COUNT(DISTINCT user_id) AS users
FROM TABLE(TUMBLE(TABLE page_views, DESCRIPTOR(ts), INTERVAL '5' SECONDS))
GROUP BY window_start, window_end, page;
