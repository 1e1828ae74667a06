//! `state-size`: a keyed job that keeps one value of `--value-bytes` bytes per key in
//! `ValueState` until the state holds about `--state-mb` MB, on the backend that
//! `-D state.backend.type=...` chooses; reports the throughput and the peak RSS of the process
//! against the state's size, to show that the rocksdb backend keeps state larger than memory.

use weir_datastream::prelude::*;

use crate::procstat::Measurement;
use crate::{totals, Args};

/// Keeps the latest value of each key in `ValueState` (on whichever backend the job
/// configures); emits the key when `emit`.
#[derive(Clone)]
pub(crate) struct Latest {
    value: ValueState<Vec<u8>>,
    emit: bool,
}

impl Latest {
    /// The function, emitting the updated key when `emit`.
    pub(crate) fn new(emit: bool) -> Self {
        Latest {
            value: ValueState::new("latest"),
            emit,
        }
    }
}

impl KeyedProcessFunction<u64, (u64, Vec<u8>), u64> for Latest {
    fn process_element(
        &mut self,
        (key, value): (u64, Vec<u8>),
        ctx: &mut KeyedContext<'_, u64, u64>,
    ) -> Result<()> {
        self.value.update(ctx, value)?;
        if self.emit {
            ctx.collect(key);
        }
        Ok(())
    }
}

/// `state-size --state-mb MB [--value-bytes B] [--updates U] [-D ...]`: record `i` sets the
/// value of key `i % keys`, for `keys = MB / B`; `U` updates per key on average (default 1:
/// every key written once).
pub fn state_size(args: &Args) -> Result<String, String> {
    let state_mb: u64 = args.get("state-mb", None)?;
    let value_bytes: usize = args.get("value-bytes", Some(500))?;
    let updates: u64 = args.get("updates", Some(1))?;
    let keys = state_mb * (1 << 20) / value_bytes as u64;
    let records = keys * updates;
    let env = args.environment(1);
    env.from_generator(
        move |i| (i % keys, vec![(i % 251) as u8; value_bytes]),
        Some(records),
        None,
    )
    .key_by(|r: &(u64, Vec<u8>)| r.0)
    .process(Latest::new(false))
    .name("Latest")
    .sink_to(|_: Vec<u64>| -> Result<()> { Ok(()) }, "Discard");
    let m = Measurement::start();
    let result = env.execute("state size").map_err(|e| e.to_string())?;
    let usage = m.stop();
    let (updated, _) = totals(&result, "Latest");
    if updated != records {
        return Err(format!(
            "{updated} records updated state, expected {records}"
        ));
    }
    let state = keys * value_bytes as u64;
    let params = format!(
        "p=1 state_mb={:.0} keys={keys} value_bytes={value_bytes} updates_per_key={updates}{} rss_per_state={:.3}",
        state as f64 / (1 << 20) as f64,
        args.property_summary(),
        usage.peak_rss_kb as f64 * 1024.0 / state as f64,
    );
    Ok(usage.line("state-size", &params, records))
}
