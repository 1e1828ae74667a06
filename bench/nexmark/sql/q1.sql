-- Q1 Currency conversion: bid prices in euros (0.908 per dollar). A projection.
CREATE TABLE nexmark_q1 (
    auction BIGINT, bidder BIGINT, price DECIMAL(23, 3), channel VARCHAR, url VARCHAR,
    `dateTime` TIMESTAMP(3), extra VARCHAR
) WITH (${SINK});

INSERT INTO nexmark_q1
SELECT auction, bidder, 0.908 * price AS price, channel, url, `dateTime`, extra FROM bid;
