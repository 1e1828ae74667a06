-- Q6 Average selling price by seller: the average winning price of each seller's last 10
-- closed auctions. NOT EXPRESSIBLE IN FLINK SQL: an OVER window needs a time attribute to
-- order by, and the winning bids come out of an updating aggregation, which has none. Kept
-- so that the harness records the failure (and for engines that can run it).
CREATE TABLE nexmark_q6 (seller BIGINT, avg_price BIGINT) WITH (${SINK});

INSERT INTO nexmark_q6
SELECT Q.seller,
       AVG(Q.final) OVER (PARTITION BY Q.seller ORDER BY Q.expires
                          ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
FROM (
    SELECT MAX(B.price) AS final, A.seller, A.expires
    FROM auction AS A
    JOIN bid AS B ON A.id = B.auction
    WHERE B.`dateTime` BETWEEN A.`dateTime` AND A.expires
    GROUP BY A.id, A.seller, A.expires
) AS Q;
