//! The Table API beside the DataStream API in one job: a DataStream of page clicks with
//! event-time timestamps becomes a table (`from_data_stream`, keeping the stream's
//! watermarks), the Table API counts clicks per user in 5-second tumbling windows and, as an
//! updating result, in total; the window counts come back as a DataStream of rows
//! (`to_data_stream`), the totals as a changelog stream (`to_changelog_stream`), and both are
//! printed by DataStream sinks.
//!
//! ```sh
//! table_api_clicks [--clicks N]
//! ```

use weir_datastream::prelude::*;
use weir_sql::table_api::{col, lit, Datum, Row, Schema, StreamTableEnvironment, Tumble};

const USERS: [&str; 3] = ["alice", "bob", "carol"];

fn main() {
    weir_datastream::run_main(|| {
        let mut clicks: u64 = 30;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match (arg.as_str(), args.next().map(|n| n.parse())) {
                ("--clicks", Some(Ok(n))) => clicks = n,
                _ => {
                    return Err(WeirError::InvalidJob(
                        "usage: table_api_clicks [--clicks N]".into(),
                    ))
                }
            }
        }
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let t_env = StreamTableEnvironment::create(&env);

        // Click i at i * 700 ms, by alice, bob, carol, carol, alice, bob, carol, carol, ...
        let stream = env
            .from_generator(
                |i| (USERS[(i % 4).min(2) as usize].to_string(), i as i64 * 700),
                Some(clicks),
                None,
            )
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_monotonous_timestamps()
                    .with_timestamp_assigner(|c: &(String, i64), _| Ok(c.1)),
            )
            .map(|(user, _): (String, i64)| Row::of([Datum::from(user)]));
        let table = t_env
            .from_data_stream(
                &stream,
                Schema::new_builder()
                    .column("user_name", "STRING")
                    .column_by_metadata("rowtime", "TIMESTAMP(3)")
                    .watermark("rowtime", "SOURCE_WATERMARK()")
                    .build(),
            )
            .map_err(WeirError::from)?;

        let per_window = table
            .window(Tumble::over(lit(5).seconds()).on(col("rowtime")).alias("w"))
            .group_by([col("w"), col("user_name")])
            .map_err(WeirError::from)?
            .select([
                col("user_name"),
                col("w").start().as_("window_start"),
                col("w").end().as_("window_end"),
                col("user_name").count().as_("clicks"),
            ]);
        t_env
            .to_data_stream(&per_window)
            .map_err(WeirError::from)?
            .print_with_prefix("window");

        let totals = table
            .group_by([col("user_name")])
            .select([col("user_name"), col("user_name").count().as_("clicks")]);
        t_env
            .to_changelog_stream(&totals)
            .map_err(WeirError::from)?
            .print_with_prefix("total");

        env.execute("table_api_clicks")?;
        Ok(())
    });
}
