//! Sinks of SQL results: a table's connector (print, blackhole, filesystem), or the client
//! that runs a query (through a channel).

use crossbeam_channel::Sender;
use weir_core::element::Batch;
use weir_core::{Result, WeirError};
use weir_runtime::{OperatorContext, Output, StreamOperator};

use crate::changelog::ChangeBatch;
use crate::connectors::filesystem::FileWriter;
use crate::connectors::print::{print_lines, PrintOptions};

/// Where a sink subtask writes.
pub enum SinkTarget {
    /// Flink's print format on stdout or stderr.
    Print(PrintOptions),
    /// Nowhere.
    Blackhole,
    /// Part files.
    Files(FileWriter),
    /// The query's client.
    Collect(Sender<ChangeBatch>),
}

/// A sink operator.
pub struct SinkOperator {
    target: SinkTarget,
    subtask: usize,
    parallelism: usize,
}

impl SinkOperator {
    /// A sink into `target`.
    pub fn new(target: SinkTarget) -> Self {
        SinkOperator {
            target,
            subtask: 0,
            parallelism: 1,
        }
    }
}

impl StreamOperator for SinkOperator {
    fn open(&mut self, ctx: &OperatorContext) -> Result<()> {
        self.subtask = ctx.subtask_index;
        self.parallelism = ctx.parallelism;
        Ok(())
    }

    fn process_batch(&mut self, _input: usize, batch: Batch, _out: &mut dyn Output) -> Result<()> {
        let change = ChangeBatch::from_batch(&batch);
        if change.rows.num_rows() == 0 {
            return Ok(());
        }
        match &mut self.target {
            SinkTarget::Print(options) => {
                let lines = print_lines(&change, options, self.subtask, self.parallelism);
                let text = lines.join("\n");
                if options.standard_error {
                    eprintln!("{text}");
                } else {
                    println!("{text}");
                }
            }
            SinkTarget::Blackhole => {}
            SinkTarget::Files(writer) => writer.write(&change.rows)?,
            SinkTarget::Collect(sender) => sender
                .send(change)
                .map_err(|_| WeirError::Other("the query's client went away".into()))?,
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Output) -> Result<()> {
        match &mut self.target {
            SinkTarget::Files(writer) => writer.commit(),
            _ => Ok(()),
        }
    }
}
