//! Execution of streaming plans on Weir's runtime: the operators ([`calc`], [`watermark`],
//! [`window_tvf`], [`group_agg`], [`window_agg`], [`normalize`], [`join`], [`interval_join`],
//! [`session_agg`], [`window_join`]), their state ([`keyed`], [`accumulators`], [`value`], [`join_rows`]), the
//! exchanges between them ([`exchange`]), sources and sinks, and the job
//! builder ([`job`]).

pub mod accumulators;
pub mod calc;
pub mod exchange;
pub mod expr;
pub mod group_agg;
pub mod interval_join;
pub mod job;
pub mod join;
pub mod join_rows;
pub mod keyed;
pub mod normalize;
pub mod session_agg;
pub mod sinks;
pub mod sources;
pub mod value;
pub mod watermark;
pub mod window_agg;
pub mod window_join;
pub mod window_tvf;
