//! Execution of streaming plans on Weir's runtime: the operators ([`calc`], [`watermark`],
//! [`window_tvf`], [`group_agg`], [`window_agg`], [`normalize`]), their state ([`keyed`], [`accumulators`],
//! [`value`]), the exchanges between them ([`exchange`]), sources and sinks, and the job
//! builder ([`job`]).

pub mod accumulators;
pub mod calc;
pub mod exchange;
pub mod expr;
pub mod group_agg;
pub mod job;
pub mod keyed;
pub mod normalize;
pub mod sinks;
pub mod sources;
pub mod value;
pub mod watermark;
pub mod window_agg;
pub mod window_tvf;
