//! Flink's `TopSpeedWindowing`: car events `(car_id,speed,distance,timestamp)`, keyed by car,
//! in a global window that keeps the last 10 s of events (`TimeEvictor`) and fires whenever a
//! car has driven more than 50 m since the event that last fired (`DeltaTrigger`); each firing
//! prints the event with the top speed among the kept ones (`max_by(1)`, the earliest on
//! ties) as `(car_id,speed,distance,timestamp)`.
//!
//! ```text
//! weir run top_speed [--cars 2] [--events 1000] [--seed 1]
//! weir run top_speed --input PATH          # lines id,speed,distance,timestamp_ms
//! ```
//! The built-in generator is deterministic: every car starts at 50 km/h; every 100 ms step
//! its speed changes by +5 or -5 (within 0..=100, chosen by a seeded generator), its
//! distance grows by `speed / 3.6` m, and it emits an event. `--events` is the number of
//! events per car; timestamps start at 0. Input lines may be in parentheses, as Flink's
//! `CarData` (`(0,55,15.277777777777779,1424951918630)`), and must be in timestamp order per
//! car. A line that is not `id,speed,distance,timestamp_ms` fails the job.

use std::time::Duration;

use weir_datastream::prelude::*;

/// `(car_id, speed in km/h, distance in m, timestamp in ms)`.
type CarEvent = (i32, i32, f64, i64);

const EVICTION: Duration = Duration::from_secs(10);
const TRIGGER_METERS: f64 = 50.0;

/// The events of `cars` cars for `events` steps of 100 ms, step by step.
fn generate(cars: usize, events: u64, seed: u64) -> Vec<CarEvent> {
    // xorshift64*: one bit per car and step decides faster or slower.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut faster = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63 == 1
    };
    let mut speeds = vec![50i32; cars];
    let mut distances = vec![0f64; cars];
    let mut out = Vec::with_capacity(cars * events as usize);
    for step in 0..events {
        for car in 0..cars {
            speeds[car] = if faster() {
                (speeds[car] + 5).min(100)
            } else {
                (speeds[car] - 5).max(0)
            };
            distances[car] += f64::from(speeds[car]) / 3.6;
            out.push((car as i32, speeds[car], distances[car], step as i64 * 100));
        }
    }
    out
}

/// Parses `id,speed,distance,timestamp_ms`, optionally in parentheses.
fn parse(line: &str) -> Result<CarEvent> {
    let bad = || {
        WeirError::user(format!(
            "'{line}' is not an id,speed,distance,timestamp_ms line"
        ))
    };
    let inner = line.trim().trim_start_matches('(').trim_end_matches(')');
    let fields: Vec<&str> = inner.split(',').map(str::trim).collect();
    let [id, speed, distance, timestamp] = fields[..] else {
        return Err(bad());
    };
    Ok((
        id.parse().map_err(|_| bad())?,
        speed.parse().map_err(|_| bad())?,
        distance.parse().map_err(|_| bad())?,
        timestamp.parse().map_err(|_| bad())?,
    ))
}

fn main() {
    weir_datastream::run_main(|| {
        let params = ParameterTool::from_env_args()?;
        let env = StreamExecutionEnvironment::get_execution_environment()?;
        let car_data = match params.get("input") {
            Some(path) => env
                .read_text_file(path)
                .filter(|line: &String| !line.trim().is_empty())
                .try_map(|line: String| parse(&line))
                .name("Parse"),
            None => {
                let cars: usize = params.get_or("cars", 2)?;
                let events: u64 = params.get_or("events", 1_000)?;
                let seed: u64 = params.get_or("seed", 1)?;
                env.from_collection(generate(cars, events, seed))
                    .name("Car Source")
            }
        };
        let watermarks = WatermarkStrategy::for_monotonous_timestamps()
            .with_timestamp_assigner(|car: &CarEvent, _| Ok(car.3));
        car_data
            .assign_timestamps_and_watermarks(watermarks)
            .key_by(|car: &CarEvent| car.0)
            .window(GlobalWindows::create())
            .evictor(TimeEvictor::of(EVICTION))
            .trigger(DeltaTrigger::of(
                TRIGGER_METERS,
                |old: &CarEvent, new: &CarEvent| new.2 - old.2,
            ))
            .max_by(1)
            .print();
        env.execute("CarTopSpeedWindowingExample")?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_bounded_speeds_and_growing_distances() {
        let events = generate(3, 500, 7);
        assert_eq!(events.len(), 1500);
        assert_eq!(generate(3, 500, 7), events, "deterministic");
        for car in 0..3 {
            let mine: Vec<&CarEvent> = events.iter().filter(|e| e.0 == car).collect();
            let mut previous = (50, 0.0, -100);
            for e in mine {
                let change = (e.1 - previous.0).abs();
                assert!(change == 5 || (change == 0 && (e.1 == 0 || e.1 == 100)));
                assert!((0..=100).contains(&e.1));
                assert!((e.2 - previous.1 - f64::from(e.1) / 3.6).abs() < 1e-9);
                assert_eq!(e.3, previous.2 + 100);
                previous = (e.1, e.2, e.3);
            }
        }
    }

    #[test]
    fn parses_plain_and_parenthesized_lines() {
        assert_eq!(
            parse("(0,55,15.5,1424951918630)").unwrap(),
            (0, 55, 15.5, 1424951918630)
        );
        assert_eq!(parse("1, 60, 2, 100").unwrap(), (1, 60, 2.0, 100));
        assert!(parse("1,60,2").is_err());
    }
}
