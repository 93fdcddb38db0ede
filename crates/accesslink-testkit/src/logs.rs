//! Everything a connector logs, captured as text, so a test can assert that no secret
//! reaches the logs.
//!
//! Put such a test in its own test binary: tracing caches per call site whether anyone
//! is interested, process-wide, and tests running beside it without a subscriber can
//! make those call sites look uninteresting.
//!
//! ```
//! let logs = accesslink_testkit::logs::CapturedLogs::start();
//! tracing::info!(user = "svc-iam", "signed in");
//! assert!(logs.text().contains("signed in"));
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;

/// Every event and span at TRACE level on this thread, formatted without colours, until
/// dropped. A current-thread runtime (the `#[tokio::test]` default) keeps the
/// connector's tasks on this thread.
#[derive(Debug)]
pub struct CapturedLogs {
    buffer: Buffer,
    _guard: DefaultGuard,
}

impl CapturedLogs {
    /// Starts capturing on this thread.
    pub fn start() -> CapturedLogs {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        CapturedLogs {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// What was logged so far.
    pub fn text(&self) -> String {
        let bytes = self.buffer.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[derive(Debug, Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
