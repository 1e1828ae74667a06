//! Restart strategies: whether, and after which delay, a failed job is restarted.
//!
//! The strategies and their options are Flink's (`restart-strategy.type` and
//! `restart-strategy.<strategy>.*`). A [`RestartStrategy`] is a pure decision object: the
//! mini-cluster calls [`RestartStrategy::on_failure`] with the time of each failure and gets
//! the delay before the restart, or `None` to fail the job; it calls
//! [`RestartStrategy::on_running`] when a (re)started attempt is running, which the
//! exponential-delay strategy measures its `reset-backoff-threshold` from. All decisions take
//! explicit instants, so they are testable without a clock.
//!
//! Without a configured type, Flink 2's default applies: `none` while checkpointing is
//! disabled (`execution.checkpointing.interval` unset), `exponential-delay` otherwise.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use weir_core::config::{options, Configuration};
use weir_core::Result;

/// A restart strategy with its state (failures seen so far).
#[derive(Debug, Clone)]
pub enum RestartStrategy {
    /// `none`/`off`/`disable`: the first failure fails the job.
    NoRestart,
    /// `fixed-delay`: up to `attempts` restarts, each after `delay`.
    FixedDelay {
        attempts: u32,
        delay: Duration,
        restarts: u32,
    },
    /// `failure-rate`: restarts after `delay` unless more than `max_failures` failures fall
    /// within `interval`.
    FailureRate {
        max_failures: u32,
        interval: Duration,
        delay: Duration,
        failures: VecDeque<Instant>,
    },
    /// `exponential-delay`: restarts forever, the delay growing from `initial_backoff` by
    /// `multiplier` up to `max_backoff`, back to `initial_backoff` once the job ran
    /// `reset_threshold` without failure; each delay gets a random jitter of up to
    /// ± `jitter_factor` × delay.
    ExponentialDelay(ExponentialDelay),
}

/// The state of the exponential-delay strategy.
#[derive(Debug, Clone)]
pub struct ExponentialDelay {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub multiplier: f64,
    pub reset_threshold: Duration,
    pub jitter_factor: f64,
    /// The backoff of the last restart (before jitter); `None` before the first failure or
    /// after a reset.
    current: Option<Duration>,
    /// Since when the job has been running without failure.
    running_since: Option<Instant>,
    /// State of the jitter's pseudo-random numbers.
    seed: u64,
}

impl ExponentialDelay {
    /// An exponential-delay strategy with these parameters, before any failure.
    pub fn new(
        initial_backoff: Duration,
        max_backoff: Duration,
        multiplier: f64,
        reset_threshold: Duration,
        jitter_factor: f64,
    ) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        ExponentialDelay {
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
            multiplier: if multiplier.is_finite() && multiplier >= 1.0 {
                multiplier
            } else {
                1.0
            },
            reset_threshold,
            jitter_factor: jitter_factor.clamp(0.0, 1.0),
            current: None,
            running_since: None,
            seed,
        }
    }

    fn on_failure(&mut self, now: Instant) -> Duration {
        let reset = self
            .running_since
            .is_some_and(|since| now.saturating_duration_since(since) >= self.reset_threshold);
        let backoff = match self.current {
            Some(current) if !reset => current.mul_f64(self.multiplier).min(self.max_backoff),
            _ => self.initial_backoff,
        };
        self.current = Some(backoff);
        self.running_since = None;
        self.jittered(backoff)
    }

    /// `backoff` ± up to `jitter_factor` × `backoff`, at most `max_backoff`.
    fn jittered(&mut self, backoff: Duration) -> Duration {
        if self.jitter_factor == 0.0 {
            return backoff;
        }
        // xorshift64
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let unit = (self.seed >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let jitter = backoff.as_secs_f64() * self.jitter_factor * (2.0 * unit - 1.0);
        Duration::from_secs_f64((backoff.as_secs_f64() + jitter).max(0.0)).min(self.max_backoff)
    }
}

impl RestartStrategy {
    /// The strategy `config` selects, with its options; Flink 2's default when
    /// `restart-strategy.type` is unset.
    pub fn from_config(config: &Configuration) -> Result<Self> {
        let kind = match config.get_optional(&options::RESTART_STRATEGY_TYPE)? {
            Some(kind) => kind.to_ascii_lowercase(),
            None if config
                .get_optional(&options::CHECKPOINTING_INTERVAL)?
                .is_some() =>
            {
                "exponential-delay".to_string()
            }
            None => "none".to_string(),
        };
        Ok(match kind.as_str() {
            "fixed-delay" | "fixeddelay" => RestartStrategy::FixedDelay {
                attempts: config.get(&options::FIXED_DELAY_ATTEMPTS)?,
                delay: config.get(&options::FIXED_DELAY_DELAY)?,
                restarts: 0,
            },
            "failure-rate" | "failurerate" => RestartStrategy::FailureRate {
                max_failures: config.get(&options::FAILURE_RATE_MAX_FAILURES)?,
                interval: config.get(&options::FAILURE_RATE_INTERVAL)?,
                delay: config.get(&options::FAILURE_RATE_DELAY)?,
                failures: VecDeque::new(),
            },
            "exponential-delay" | "exponentialdelay" => {
                RestartStrategy::ExponentialDelay(ExponentialDelay::new(
                    config.get(&options::EXPONENTIAL_DELAY_INITIAL_BACKOFF)?,
                    config.get(&options::EXPONENTIAL_DELAY_MAX_BACKOFF)?,
                    config.get(&options::EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER)?,
                    config.get(&options::EXPONENTIAL_DELAY_RESET_THRESHOLD)?,
                    config.get(&options::EXPONENTIAL_DELAY_JITTER_FACTOR)?,
                ))
            }
            // none, off, disable (the option only admits these others).
            _ => RestartStrategy::NoRestart,
        })
    }

    /// A fixed-delay strategy.
    pub fn fixed_delay(attempts: u32, delay: Duration) -> Self {
        RestartStrategy::FixedDelay {
            attempts,
            delay,
            restarts: 0,
        }
    }

    /// A failure-rate strategy.
    pub fn failure_rate(max_failures: u32, interval: Duration, delay: Duration) -> Self {
        RestartStrategy::FailureRate {
            max_failures,
            interval,
            delay,
            failures: VecDeque::new(),
        }
    }

    /// Records a failure at `now`: the delay after which the job restarts, or `None` if the
    /// strategy gives up.
    pub fn on_failure(&mut self, now: Instant) -> Option<Duration> {
        match self {
            RestartStrategy::NoRestart => None,
            RestartStrategy::FixedDelay {
                attempts,
                delay,
                restarts,
            } => {
                if *restarts >= *attempts {
                    return None;
                }
                *restarts += 1;
                Some(*delay)
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval,
                delay,
                failures,
            } => {
                // As Flink: a failure counts while it is at most `interval` old.
                while failures
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) > *interval)
                {
                    failures.pop_front();
                }
                failures.push_back(now);
                (failures.len() <= *max_failures as usize).then_some(*delay)
            }
            RestartStrategy::ExponentialDelay(e) => Some(e.on_failure(now)),
        }
    }

    /// Records that the job (re)started and is running since `now`.
    pub fn on_running(&mut self, now: Instant) {
        if let RestartStrategy::ExponentialDelay(e) = self {
            e.running_since = Some(now);
        }
    }

    /// Whether the strategy may ever restart.
    pub fn restarts(&self) -> bool {
        !matches!(self, RestartStrategy::NoRestart)
    }

    /// Why the strategy gave up, for the job's error, e.g.
    /// `restart strategy fixed-delay: 3 attempts exhausted`.
    pub fn exhausted_reason(&self) -> String {
        match self {
            RestartStrategy::NoRestart => "restart strategy none".to_string(),
            RestartStrategy::FixedDelay { attempts, .. } => {
                format!("restart strategy fixed-delay: {attempts} attempts exhausted")
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval,
                ..
            } => format!(
                "restart strategy failure-rate: more than {max_failures} failures within {interval:?}"
            ),
            RestartStrategy::ExponentialDelay(_) => {
                "restart strategy exponential-delay gave up".to_string()
            }
        }
    }
}

impl fmt::Display for RestartStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestartStrategy::NoRestart => "none",
            RestartStrategy::FixedDelay { .. } => "fixed-delay",
            RestartStrategy::FailureRate { .. } => "failure-rate",
            RestartStrategy::ExponentialDelay(_) => "exponential-delay",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn config(pairs: &[(&str, &str)]) -> Configuration {
        let mut c = Configuration::default();
        for (k, v) in pairs {
            c.set_string(*k, *v);
        }
        c
    }

    #[test]
    fn default_is_none_without_checkpointing_and_exponential_with() {
        let s = RestartStrategy::from_config(&Configuration::default()).unwrap();
        assert!(matches!(s, RestartStrategy::NoRestart));
        let s =
            RestartStrategy::from_config(&config(&[("execution.checkpointing.interval", "10 s")]))
                .unwrap();
        let RestartStrategy::ExponentialDelay(e) = s else {
            panic!("expected exponential-delay, got {s}");
        };
        assert_eq!(e.initial_backoff, Duration::from_secs(1));
        assert_eq!(e.max_backoff, Duration::from_secs(60));
        assert_eq!(e.multiplier, 1.5);
        assert_eq!(e.reset_threshold, Duration::from_secs(3600));
        assert_eq!(e.jitter_factor, 0.1);
        // An explicit type wins over the checkpointing default.
        for off in ["none", "off", "disable"] {
            let s = RestartStrategy::from_config(&config(&[
                ("execution.checkpointing.interval", "10 s"),
                ("restart-strategy.type", off),
            ]))
            .unwrap();
            assert!(matches!(s, RestartStrategy::NoRestart), "{off}");
        }
    }

    #[test]
    fn options_are_read_with_flink_defaults() {
        let s = RestartStrategy::from_config(&config(&[("restart-strategy.type", "fixed-delay")]))
            .unwrap();
        assert!(matches!(
            s,
            RestartStrategy::FixedDelay { attempts: 1, delay, .. } if delay == Duration::from_secs(1)
        ));
        let s = RestartStrategy::from_config(&config(&[
            ("restart-strategy.type", "failurerate"),
            (
                "restart-strategy.failure-rate.max-failures-per-interval",
                "3",
            ),
            (
                "restart-strategy.failure-rate.failure-rate-interval",
                "5 min",
            ),
            ("restart-strategy.failure-rate.delay", "10 s"),
        ]))
        .unwrap();
        assert!(matches!(
            s,
            RestartStrategy::FailureRate { max_failures: 3, interval, delay, .. }
                if interval == Duration::from_secs(300) && delay == Duration::from_secs(10)
        ));
        // The deprecated key `restart-strategy`.
        let s =
            RestartStrategy::from_config(&config(&[("restart-strategy", "fixed-delay")])).unwrap();
        assert_eq!(s.to_string(), "fixed-delay");
        assert!(
            RestartStrategy::from_config(&config(&[("restart-strategy.type", "bogus")])).is_err()
        );
    }

    #[test]
    fn none_never_restarts() {
        let mut s = RestartStrategy::NoRestart;
        assert_eq!(s.on_failure(Instant::now()), None);
        assert!(!s.restarts());
    }

    #[test]
    fn fixed_delay_restarts_attempts_times() {
        let t = Instant::now();
        let mut s = RestartStrategy::fixed_delay(3, ms(10));
        assert_eq!(s.on_failure(t), Some(ms(10)));
        assert_eq!(s.on_failure(t + ms(20)), Some(ms(10)));
        assert_eq!(s.on_failure(t + ms(40)), Some(ms(10)));
        assert_eq!(s.on_failure(t + ms(60)), None);
        assert_eq!(
            s.exhausted_reason(),
            "restart strategy fixed-delay: 3 attempts exhausted"
        );
        let mut zero = RestartStrategy::fixed_delay(0, ms(10));
        assert_eq!(zero.on_failure(t), None);
    }

    #[test]
    fn failure_rate_counts_failures_within_the_interval() {
        let t = Instant::now();
        let mut s = RestartStrategy::failure_rate(1, ms(1000), ms(5));
        assert_eq!(s.on_failure(t), Some(ms(5)));
        // A second failure within the interval: give up.
        assert_eq!(s.on_failure(t + ms(500)), None);

        let mut s = RestartStrategy::failure_rate(2, ms(1000), ms(5));
        assert_eq!(s.on_failure(t), Some(ms(5)));
        assert_eq!(s.on_failure(t + ms(600)), Some(ms(5)));
        // The first failure is more than an interval old: two failures in the interval.
        assert_eq!(s.on_failure(t + ms(1001)), Some(ms(5)));
        // Three within [t+600, t+1500].
        assert_eq!(s.on_failure(t + ms(1500)), None);
    }

    fn exponential(jitter: f64) -> RestartStrategy {
        RestartStrategy::ExponentialDelay(ExponentialDelay::new(
            ms(100),
            ms(1000),
            2.0,
            ms(10_000),
            jitter,
        ))
    }

    #[test]
    fn exponential_delay_grows_to_the_maximum() {
        let t = Instant::now();
        let mut s = exponential(0.0);
        let delays: Vec<_> = (0..7)
            .map(|i| {
                let d = s.on_failure(t + ms(i * 10)).unwrap();
                s.on_running(t + ms(i * 10) + d);
                d
            })
            .collect();
        assert_eq!(
            delays,
            [100, 200, 400, 800, 1000, 1000, 1000].map(ms).to_vec()
        );
    }

    #[test]
    fn exponential_delay_resets_after_the_threshold_without_failure() {
        let t = Instant::now();
        let mut s = exponential(0.0);
        assert_eq!(s.on_failure(t), Some(ms(100)));
        s.on_running(t + ms(100));
        assert_eq!(s.on_failure(t + ms(200)), Some(ms(200)));
        s.on_running(t + ms(400));
        // Ran 9.9 s: no reset.
        assert_eq!(s.on_failure(t + ms(10_300)), Some(ms(400)));
        s.on_running(t + ms(10_700));
        // Ran 10 s: back to the initial backoff.
        assert_eq!(s.on_failure(t + ms(20_700)), Some(ms(100)));
        assert_eq!(s.on_failure(t + ms(20_800)), Some(ms(200)));
    }

    #[test]
    fn exponential_delay_jitter_stays_within_the_factor() {
        let t = Instant::now();
        let mut s = exponential(0.5);
        let mut expected = [100u64, 200, 400, 800, 1000].into_iter();
        for i in 0..5 {
            let backoff = expected.next().unwrap() as f64;
            let d = s.on_failure(t + ms(i)).unwrap().as_secs_f64() * 1000.0;
            assert!(
                d >= backoff * 0.5 - 1e-6 && d <= (backoff * 1.5).min(1000.0) + 1e-6,
                "{d} for {backoff}"
            );
        }
    }
}
