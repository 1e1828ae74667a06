-- UNNEST of ARRAY columns in lateral joins (Flink's Correlate), with ordinality, and a
-- LEFT JOIN that keeps rows whose array is empty.
-- compare: multiset
CREATE VIEW tagged AS SELECT * FROM (VALUES
  (1, ARRAY['red', 'green']),
  (2, ARRAY['blue']),
  (3, ARRAY['red', 'blue', 'black'])
) AS t(id, tags);

CREATE VIEW scored AS SELECT * FROM (VALUES
  ('a', ARRAY[3, 1, 2]),
  ('b', ARRAY[10, 20])
) AS t(k, scores);

SELECT id, tag FROM tagged CROSS JOIN UNNEST(tags) AS u(tag);

SELECT id, tag, pos FROM tagged CROSS JOIN UNNEST(tags) WITH ORDINALITY AS u(tag, pos);

SELECT k, s * 2 AS doubled FROM scored, UNNEST(scores) AS u(s) WHERE s > 1;

SELECT tag, COUNT(*) AS n FROM tagged CROSS JOIN UNNEST(tags) AS u(tag) GROUP BY tag;
