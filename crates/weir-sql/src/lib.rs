//! Weir's Table API and SQL in Flink's dialect, planned with DataFusion and run on Weir's
//! runtime.
//!
//! A statement goes through these steps:
//! - [`script`]: a script is split into statements (`${NAME}` substituted);
//! - [`session::TableEnvironment::execute_sql`] dispatches DDL ([`ddl`] parses Flink's
//!   `CREATE TABLE` with watermarks, computed columns and primary keys into the [`catalog`]),
//!   `SET`/`RESET`, `SHOW`, `DESCRIBE`, `EXPLAIN`, `INSERT` and queries;
//! - [`rewrite`] turns Flink-only syntax (window TVFs, `FLOOR(ts TO HOUR)`, plural interval
//!   units) into SQL that DataFusion's parser accepts, [`field_names`] names selected
//!   nested-row fields as Flink does, [`group_window`] makes legacy group windows
//!   (`GROUP BY TUMBLE(ts, ...)`) plannable, and [`planner`] plans it into an
//!   analysed DataFusion logical plan, with [`functions`] (DataFusion's and Flink's);
//! - [`plan`] translates the logical plan into a streaming plan of Weir operators, and
//!   [`exec`] runs it on the mini-cluster: Arrow record batches with a row kind per row
//!   ([`changelog`]) flow between operators; aggregations keep their groups in Weir's keyed
//!   state, so checkpoints and savepoints cover them;
//! - [`connectors`] and [`formats`] read and write tables (`datagen`, `filesystem` with `csv`
//!   and `json`, `print`, `blackhole`); [`runner`] runs scripts and [`tableau`] prints results
//!   as Flink's SQL client does.
//!
//! The [`table_api`] builds queries in Rust (`from_path("t")?.filter(..).group_by(..)
//! .select(..)`) as Flink SQL over the same catalog, and converts tables from and to
//! DataStreams of `weir-datastream` in one job.

pub mod catalog;
pub mod changelog;
pub mod connectors;
pub mod ddl;
pub mod display;
pub mod error;
pub mod exec;
pub mod field_names;
pub mod formats;
pub mod functions;
pub mod group_window;
pub mod parse;
pub mod plan;
pub mod planner;
pub mod rewrite;
pub mod runner;
pub mod script;
pub mod session;
pub mod table_api;
pub mod tableau;
pub mod types;

pub use changelog::{ChangeBatch, RowKind};
pub use error::{Result, SqlError};
pub use runner::run_script;
pub use session::{StatementResult, TableEnvironment};
