//! The backpressure demo of Flink's operations playground: a generator emits click events
//! at a steady rate; a map sleeps 100 ms per record in even minutes, so in those minutes the
//! source is back-pressured. The log shows each task's `backPressuredTimeMsPerSecond`,
//! `busyTimeMsPerSecond` and rates every 5 s.
//!
//! ```text
//! weir run backpressure [--rate 100] [--seconds N] [--always-slow]
//! ```
//! `--seconds` stops the job after N seconds; `--always-slow` sleeps in every minute.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weir_datastream::prelude::*;

const PAGES: [&str; 6] = ["/help", "/index", "/shop", "/jobs", "/about", "/news"];

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let rate: f64 = params.get_or("rate", 100.0)?;
        let always_slow = params.has("always-slow");
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        if env
            .config()
            .get_string("metrics.reporter.log.interval")
            .is_none()
        {
            env.configure("metrics.reporter.log.interval", "5 s");
        }
        env.from_generator(
            |i| (PAGES[(i % 6) as usize].to_string(), i),
            None,
            Some(rate),
        )
        .name("ClickEvent Generator")
        .map(move |click: (String, u64)| {
            let minute = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() / 60)
                .unwrap_or(0);
            if always_slow || minute.is_multiple_of(2) {
                std::thread::sleep(Duration::from_millis(100));
            }
            click
        })
        .name("Backpressure")
        .disable_chaining()
        .key_by(|(page, _): &(String, u64)| page.clone())
        .reduce(|(page, n), _| (page, n + 1))
        .name("ClickEvent Counter")
        .sink_to(|_: Vec<(String, u64)>| Ok(()), "Discard");

        let handle = env.execute_async("Backpressure Demo")?;
        match params.get_parsed::<u64>("seconds")? {
            Some(seconds) => {
                std::thread::sleep(Duration::from_secs(seconds));
                handle.cancel();
                match handle.wait() {
                    Ok(_) | Err(WeirError::Cancelled) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            None => {
                weir_datastream::cancel_on_interrupt(&handle);
                handle.wait().map(|_| ())
            }
        }
    })
}
