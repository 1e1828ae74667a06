-- Q4 Average price per category: the winning bid of each closed auction (highest bid
-- placed while it was open), averaged per category. A join and two aggregations, updating.
CREATE TABLE nexmark_q4 (id BIGINT, final BIGINT) WITH (${SINK});

INSERT INTO nexmark_q4
SELECT Q.category, AVG(Q.final)
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction AS A
    JOIN bid AS B ON A.id = B.auction
    WHERE B.`dateTime` BETWEEN A.`dateTime` AND A.expires
    GROUP BY A.id, A.category
) AS Q
GROUP BY Q.category;
