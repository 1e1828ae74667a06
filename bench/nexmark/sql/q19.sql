-- Q19 Top-10 bids: the ten highest bids of each auction. Top-N. Ties at the tenth place
-- make the chosen rows depend on arrival order; compare on (auction, rank, price).
CREATE TABLE nexmark_q19 (
    auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
    `dateTime` TIMESTAMP(3), extra VARCHAR, rank_number BIGINT
) WITH (${SINK});

INSERT INTO nexmark_q19
SELECT auction, bidder, price, channel, url, `dateTime`, extra, rank_number
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
    FROM bid
)
WHERE rank_number <= 10;
