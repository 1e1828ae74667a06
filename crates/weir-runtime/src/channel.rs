//! Bounded channels between tasks.
//!
//! A channel holds at most `capacity` elements, and a batch holds at most
//! `execution.batch-size` records, so the records in flight on a channel are bounded. A
//! sender that finds the channel full blocks (backpressure) and counts the time as
//! back-pressured; it wakes up regularly to notice cancellation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, SendTimeoutError, Sender, TrySendError};
use weir_core::element::StreamElement;
use weir_core::metrics::TaskMetrics;
use weir_core::{Result, WeirError};

/// How often a blocked task checks whether the job was cancelled.
pub const CANCEL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// A new bounded channel of `capacity` elements.
pub fn new_channel(capacity: usize) -> (Sender<StreamElement>, Receiver<StreamElement>) {
    bounded(capacity.max(1))
}

/// Sends `element`, blocking while the channel is full. A closed channel or a cancelled job
/// ends the send with [`WeirError::Cancelled`].
pub fn send(
    tx: &Sender<StreamElement>,
    element: StreamElement,
    metrics: &TaskMetrics,
    cancelled: &AtomicBool,
) -> Result<()> {
    let mut element = match tx.try_send(element) {
        Ok(()) => return Ok(()),
        Err(TrySendError::Full(e)) => e,
        Err(TrySendError::Disconnected(_)) => return Err(WeirError::Cancelled),
    };
    let started = Instant::now();
    let result = loop {
        match tx.send_timeout(element, CANCEL_CHECK_INTERVAL) {
            Ok(()) => break Ok(()),
            Err(SendTimeoutError::Timeout(e)) if !cancelled.load(Ordering::Relaxed) => element = e,
            Err(_) => break Err(WeirError::Cancelled),
        }
    };
    metrics.add_backpressured(started.elapsed());
    result
}
