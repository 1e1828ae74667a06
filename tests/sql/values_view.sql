-- Inline VALUES tables through views, and views over views.
-- compare: final
CREATE VIEW prices AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3), ('c', 4), ('b', 5)) AS t(k, v);

CREATE VIEW big AS SELECT k, v FROM prices WHERE v > 1;

SELECT k, SUM(v) AS total, COUNT(*) AS n FROM big GROUP BY k;

SELECT k, v * 10 AS v10 FROM prices;
