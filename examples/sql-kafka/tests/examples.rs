//! The examples' jobs, as `run.sh` runs them, against a real broker: their upsert-kafka
//! output, compacted, must equal the report computed here from the input.

mod support;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Timelike};
use weir_core::config::Configuration;
use weir_sql::{run_script, TableEnvironment};
use weir_sql_kafka_examples::{
    province_id_to_name, PAYMENTS_BY_PROVINCE_SQL, PROVINCES, SPEND_REPORT_SQL,
};

use support::{compacted, json_field, TestBroker};

/// Runs `script` in `env` with `${BOOTSTRAP}` set to the broker's address.
fn run(env: &mut TableEnvironment, script: &str, broker: &TestBroker) {
    let vars = HashMap::from([("BOOTSTRAP".to_string(), broker.bootstrap.clone())]);
    let mut out = Vec::new();
    run_script(env, script, &vars, &mut out)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
}

#[test]
fn the_spend_report_equals_the_hourly_sums_of_the_transactions() {
    let broker = TestBroker::start();
    broker.create_topic("transactions", 2);
    broker.create_topic("spend_report", 2);
    // 2024-03-01 08:00:00 UTC, then one transaction every 37 s over about six hours.
    const START_MS: i64 = 1_709_280_000_000;
    let transactions: Vec<(i64, i64, i64)> = (0..600)
        .map(|i| (i % 5 + 1, (i * 37) % 1000 + 1, START_MS + i * 37_000))
        .collect();
    let records: Vec<(i32, i64, String)> = transactions
        .iter()
        .enumerate()
        .map(|(i, (account, amount, ms))| {
            let time = DateTime::from_timestamp_millis(*ms).unwrap().naive_utc();
            let line = format!(
                "{account},{amount},{}",
                time.format("%Y-%m-%d %H:%M:%S%.3f")
            );
            ((i % 2) as i32, *ms, line)
        })
        .collect();
    broker.produce_batched("transactions", &records);

    run(
        &mut TableEnvironment::new(Configuration::new()),
        SPEND_REPORT_SQL,
        &broker,
    );

    let mut expected: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for (account, amount, ms) in &transactions {
        let time = DateTime::from_timestamp_millis(*ms).unwrap().naive_utc();
        let hour = time.with_minute(0).unwrap().with_second(0).unwrap();
        *expected
            .entry((*account, hour.format("%Y-%m-%d %H").to_string()))
            .or_default() += amount;
    }
    let got: BTreeMap<(i64, String), i64> =
        compacted(&broker.read_keyed("spend_report", 2, "read_uncommitted"))
            .into_iter()
            .map(|(key, value)| {
                let account: i64 = json_field(&key, "account_id").parse().unwrap();
                let log_ts = json_field(&key, "log_ts");
                assert_eq!(json_field(&value, "log_ts"), log_ts);
                assert_eq!(log_ts[13..].trim_end_matches(".000"), ":00:00", "{log_ts}");
                let amount = json_field(&value, "amount").parse().unwrap();
                ((account, log_ts[..13].to_string()), amount)
            })
            .collect();
    assert_eq!(got, expected);
}

#[test]
fn payments_per_province_are_summed_under_the_udf_s_names() {
    let broker = TestBroker::start();
    broker.create_topic("payment_msg", 2);
    broker.create_topic("province_pay_amount", 1);
    // Amounts of halves, so that sums of doubles are exact.
    let payments: Vec<(i64, f64, i32)> = (0..500)
        .map(|i| (i, (i % 40) as f64 + 0.5, (i * 3 % 7) as i32))
        .collect();
    let records: Vec<(i32, i64, String)> = payments
        .iter()
        .map(|(order, amount, province)| {
            let json = format!(
                r#"{{"createTime":"t{order}","orderId":{order},"payAmount":{amount},"payPlatform":{},"provinceId":{province}}}"#,
                order % 2
            );
            ((order % 2) as i32, *order, json)
        })
        .collect();
    broker.produce_batched("payment_msg", &records);

    let mut env = TableEnvironment::new(Configuration::new());
    env.functions_mut().register_scalar(province_id_to_name());
    run(&mut env, PAYMENTS_BY_PROVINCE_SQL, &broker);

    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for (_, amount, province) in &payments {
        *expected
            .entry(PROVINCES[*province as usize].to_string())
            .or_default() += amount;
    }
    let got: BTreeMap<String, f64> =
        compacted(&broker.read_keyed("province_pay_amount", 1, "read_uncommitted"))
            .into_iter()
            .map(|(key, value)| {
                let province = json_field(&key, "province");
                assert_eq!(json_field(&value, "province"), province);
                (province, json_field(&value, "pay_amount").parse().unwrap())
            })
            .collect();
    assert_eq!(got, expected);
}
