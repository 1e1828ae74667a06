//! `weir-nexmark generate`: writes Nexmark events to a file that Flink's filesystem
//! connector (and later `weir sql`) reads, so that engines can be compared on exactly the
//! same input.
//!
//! ```text
//! weir-nexmark generate --events 1000000 --format json --out /tmp/nexmark [--rate 10000] [--seed 0]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use weir_nexmark::files::{write_events, Format};
use weir_nexmark::{NexmarkConfig, NexmarkGenerator};

#[derive(Parser)]
#[command(name = "weir-nexmark", about = "The Nexmark benchmark's events")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write events 0..N to OUT/events.json or OUT/events.csv (Flink's Nexmark columns).
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Number of events.
    #[arg(long)]
    events: u64,
    /// File format.
    #[arg(long, value_enum, default_value_t = FileFormat::Json)]
    format: FileFormat,
    /// Directory to write to (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Events per second of event time (Flink Nexmark's `first-event.rate`).
    #[arg(long, default_value_t = NexmarkConfig::default().first_event_rate)]
    rate: u64,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Event time of the first event, in ms since the epoch (default 2024-01-01 00:00 UTC).
    #[arg(long, default_value_t = NexmarkConfig::default().base_time_ms)]
    base_time: i64,
    /// Threads generating events (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FileFormat {
    Json,
    Csv,
}

fn main() -> ExitCode {
    let Command::Generate(args) = Cli::parse().command;
    match generate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &GenerateArgs) -> Result<(), String> {
    let config = NexmarkConfig {
        events: Some(args.events),
        first_event_rate: args.rate,
        seed: args.seed,
        base_time_ms: args.base_time,
        ..NexmarkConfig::default()
    };
    let generator = NexmarkGenerator::new(config)?;
    let format = match args.format {
        FileFormat::Json => Format::Json,
        FileFormat::Csv => Format::Csv,
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = Instant::now();
    let (path, bytes) = write_events(&generator, args.events, format, &args.out, threads)
        .map_err(|e| format!("cannot write events to {}: {e}", args.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {} events ({:.1} MB) to {} in {secs:.2} s ({:.2}M events/s)",
        args.events,
        bytes as f64 / 1e6,
        path.display(),
        args.events as f64 / secs.max(1e-9) / 1e6
    );
    Ok(())
}
