//! Execution of streaming plans on Weir's runtime: the operators ([`calc`], [`watermark`],
//! [`window_tvf`], [`group_agg`], [`local_agg`], [`window_agg`], [`session_agg`],
//! [`normalize`], [`join`], [`interval_join`], [`window_join`], [`rank`], [`over_agg`]), their
//! state ([`keyed`], [`accumulators`], [`group_buffer`], [`value`], [`join_rows`],
//! [`rank_state`]),
//! mini-batches ([`mini_batch`]), the exchanges between them ([`exchange`]), sources and
//! sinks, batch mode's final rows ([`final_result`]), and the job builder ([`job`]).

pub mod accumulators;
pub mod calc;
pub mod correlate;
pub mod exchange;
pub mod expr;
pub mod final_result;
pub mod group_agg;
pub mod group_buffer;
pub mod interval_join;
pub mod job;
pub mod join;
pub mod join_rows;
pub mod keyed;
pub mod local_agg;
pub mod mini_batch;
pub mod normalize;
pub mod over_agg;
pub mod rank;
pub mod rank_state;
pub mod session_agg;
pub mod sinks;
pub mod sources;
pub mod value;
pub mod watermark;
pub mod window_agg;
pub mod window_join;
pub mod window_tvf;
