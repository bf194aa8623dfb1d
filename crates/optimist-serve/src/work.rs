//! Heavy work (races, exports, landscapes) on tokio's blocking pool: at most
//! [`Limits::max_jobs`](crate::Limits::max_jobs) at once, each with a flag that its
//! inner loops check. The flag is raised when the deadline passes and when the client
//! leaves (the server then drops the handler's future, and with it a guard that raises
//! the flag), so no work outlives its answer by more than one check.

use crate::{ApiError, AppState};
use optimist_lab::landscape::{Landscape, Window};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

/// The slots for heavy work, and how many jobs are running.
pub(crate) struct Pool {
    slots: Arc<Semaphore>,
    size: usize,
    running: Arc<AtomicUsize>,
}

impl Pool {
    /// `size` slots.
    pub(crate) fn new(size: usize) -> Pool {
        let size = size.max(1);
        Pool {
            slots: Arc::new(Semaphore::new(size)),
            size,
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Jobs whose work has not returned yet (cut off ones included until they stop).
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// A counter of running work, for the tune searches too.
    pub(crate) fn counter(&self) -> Arc<AtomicUsize> {
        self.running.clone()
    }
}

/// Raises its flag when dropped: held by a handler's future, it stops the work of a
/// client that left.
pub(crate) struct RaiseOnDrop(pub Arc<AtomicBool>);

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts one running job for as long as it lives.
pub(crate) struct Running(Arc<AtomicUsize>);

impl Running {
    /// One more job in `counter`.
    pub(crate) fn new(counter: Arc<AtomicUsize>) -> Running {
        counter.fetch_add(1, Ordering::SeqCst);
        Running(counter)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `work` on the blocking pool once a slot is free, within the deadline: a request
/// waits for a slot until then (answered 503 with `Retry-After` if none frees), and
/// work still running then is answered 503 at once and sees its flag raised. The slot
/// is held until the work has actually stopped.
pub(crate) async fn compute<T: Send + 'static>(
    state: &AppState,
    what: &str,
    work: impl FnOnce(&AtomicBool) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let limit = state.limits.timeout;
    let seconds = optimist_lab::text::number(limit.as_secs_f64());
    let deadline = Instant::now() + limit;
    let pool = &state.pool;
    let slot = match timeout_at(deadline, pool.slots.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(e)) => return Err(ApiError::internal(format!("no slot for the {what}: {e}"))),
        Err(_) => {
            return Err(ApiError::busy(format!(
                "the server is busy: {} computations are running, the most it runs at once, and none finished within {seconds} s; try again",
                pool.size
            )))
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let _raise = RaiseOnDrop(cancel.clone());
    let flag = cancel.clone();
    let running = Running::new(pool.counter());
    let task = tokio::task::spawn_blocking(move || {
        let (_slot, _running) = (slot, running);
        work(&flag)
    });
    match timeout_at(deadline, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(ApiError::internal(format!("the {what} failed: {e}"))),
        Err(_) => {
            cancel.store(true, Ordering::SeqCst);
            Err(ApiError::timeout(format!(
                "the {what} took longer than {seconds} s and was cut off; ask for fewer steps or optimizers"
            )))
        }
    }
}

/// A landscape that reads as not finite once `cancel` is raised: a race or a tuning
/// on it, which evaluates it at every step, then stops at its next step as if it had
/// diverged (the caller sees the flag and throws the result away).
pub(crate) struct Cancellable<'a> {
    /// The landscape.
    pub inner: &'a dyn Landscape,
    /// Raised to stop.
    pub cancel: &'a AtomicBool,
}

impl Cancellable<'_> {
    fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl Landscape for Cancellable<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn formula(&self) -> &str {
        self.inner.formula()
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        if self.stopped() {
            f64::NAN
        } else {
            self.inner.value(x, y)
        }
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        if self.stopped() {
            (f64::NAN, f64::NAN)
        } else {
            self.inner.gradient(x, y)
        }
    }
    fn window(&self) -> Window {
        self.inner.window()
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        self.inner.minima()
    }
    fn start(&self) -> (f64, f64) {
        self.inner.start()
    }
}
