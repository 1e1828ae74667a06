//! The Table API: relational operations on [`Table`]s in Rust, in the style of Flink's Java
//! Table API, and conversions between tables and DataStreams in one job.
//!
//! Start from a [`StreamTableEnvironment`] over a `StreamExecutionEnvironment`; get tables
//! from the catalog ([`StreamTableEnvironment::from_path`] after `execute_sql` DDL), from SQL
//! ([`StreamTableEnvironment::sql_query`]) or from a DataStream of [`Row`]s
//! ([`StreamTableEnvironment::from_data_stream`] with a [`Schema`]); transform them with
//! `select`, `filter`/`where_`, `group_by(..).select(..)`, `window(Tumble::over(..).on(..)
//! .alias("w")).group_by(..)?.select(..)`, `join(..).where_(..)`, `left_outer_join`,
//! `order_by`, `distinct`, `union_all`, `add_columns`, `rename_columns`; then
//! `execute()?.print()`, `execute_insert("sink")`, `explain()`, or turn the table into a
//! DataStream of the same job with [`StreamTableEnvironment::to_data_stream`] (insert-only
//! tables) or [`StreamTableEnvironment::to_changelog_stream`] (`(RowKind, Row)` records).
//!
//! Expressions read as in Flink's Java Table API: `col("a")` for `$("a")`, `lit(1)`,
//! `.plus`, `.is_greater`, `.as_("x")`, `.sum()`, `col("w").start()` on a window alias, and
//! `call("f", [..])` for a function registered with
//! [`StreamTableEnvironment::create_temporary_system_function`].
//!
//! Each operation wraps the query so far into Flink SQL, so tables are planned and run by the
//! same planner and operators as `weir sql`; [`Table::sql`] shows the query.
//!
//! ```no_run
//! use weir_core::config::Configuration;
//! use weir_datastream::StreamExecutionEnvironment;
//! use weir_sql::table_api::{col, lit, StreamTableEnvironment, Tumble};
//!
//! let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
//! let t_env = StreamTableEnvironment::create(&env);
//! t_env.execute_sql("CREATE TABLE clicks (name STRING, ts TIMESTAMP(3), \
//!     WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen', \
//!     'number-of-rows' = '100')")?;
//! t_env
//!     .from_path("clicks")?
//!     .window(Tumble::over(lit(5).seconds()).on(col("ts")).alias("w"))
//!     .group_by([col("w"), col("name")])?
//!     .select([col("name"), col("w").end().as_("window_end"), col("name").count().as_("n")])
//!     .execute()?
//!     .print()?;
//! # Ok::<(), weir_sql::SqlError>(())
//! ```

mod conversion;
mod environment;
mod expression;
mod row;
mod table;
mod window;

pub use crate::changelog::RowKind;
pub use environment::{Schema, StreamTableEnvironment};
pub use expression::{call, col, lit, Expression, Literal, WindowBound};
pub use row::{Datum, Row};
pub use table::{GroupedTable, Table, TableResult, WindowGroupedTable, WindowedTable};
pub use window::{
    GroupWindow, Session, Slide, SlideWithSize, Tumble, WindowWithTime, WindowWithoutTime,
};
