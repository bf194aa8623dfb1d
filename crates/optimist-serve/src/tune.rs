//! `POST /api/tune` starts a learning-rate search (the lab's, as `optimist tune` runs
//! it) in the background; `GET /api/tune/{id}` reports its progress and, once done, each
//! optimizer's best rate and tuned spec.
//!
//! Ids are 128 random bits in lower-case hex: one client cannot read or guess
//! another's search. At most [`Limits::max_tunes`](crate::Limits::max_tunes) run at
//! once, and a search nobody has asked about for
//! [`Limits::tune_abandon`](crate::Limits::tune_abandon) is cancelled.

use crate::guard::Body;
use crate::work::{Cancellable, Running};
use crate::{budget, parse_body, ApiError, AppState, RaceRequest};
use axum::extract::{Path, State};
use axum::Json;
use optimist_lab::text::{number, quoted};
use optimist_lab::tune::tune;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The most searches kept; the oldest finished one is forgotten first.
const MAX_JOBS: usize = 32;

/// Hex digits of an id (128 bits).
pub const ID_LENGTH: usize = 32;

/// One search: trials done of the total, and its outcome once finished.
struct Job {
    done: Arc<AtomicUsize>,
    total: usize,
    outcome: Arc<Mutex<Option<Result<Value, String>>>>,
    /// When its progress was last asked for.
    polled: Arc<Mutex<Instant>>,
    started: Instant,
}

/// Every search kept, by id, and the slots for running ones.
pub(crate) struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    slots: Arc<Semaphore>,
    size: usize,
}

impl Jobs {
    /// Room for `size` searches running at once.
    pub(crate) fn new(size: usize) -> Jobs {
        let size = size.max(1);
        Jobs {
            jobs: Mutex::default(),
            slots: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// Searches running now.
    pub(crate) fn running(&self) -> usize {
        self.size - self.slots.available_permits()
    }
}

/// A fresh id: 128 bits from the system's random source, as lower-case hex.
fn new_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; ID_LENGTH / 2];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(format!("no random bytes for an id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `id` is written as ids are: exactly [`ID_LENGTH`] lower-case hex digits.
fn well_formed(id: &str) -> bool {
    id.len() == ID_LENGTH && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `POST /api/tune`: `{id, total}`.
pub(crate) async fn start(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let request: RaceRequest = parse_body(body)?;
    let (checked, config) = request.check_tune()?;
    budget::tune(
        checked.size(),
        config.search.trials(),
        state.limits.tune_budget,
    )?;
    let total = checked.race.optimizers.len() * config.search.trials();
    let tunings = &state.tunings;
    let Ok(slot) = tunings.slots.clone().try_acquire_owned() else {
        return Err(ApiError::busy(format!(
            "{} searches are running, the most this server runs at once; try again when one is done",
            tunings.size
        )));
    };
    let id = new_id()?;
    let done = Arc::new(AtomicUsize::new(0));
    let outcome = Arc::new(Mutex::new(None));
    let polled = Arc::new(Mutex::new(Instant::now()));
    {
        let mut jobs = tunings.jobs.lock().unwrap_or_else(|e| e.into_inner());
        while jobs.len() >= MAX_JOBS {
            // Running ones hold a slot, so at most `size` < MAX_JOBS are unfinished.
            let oldest = jobs
                .iter()
                .filter(|(_, j)| j.outcome.lock().map(|o| o.is_some()).unwrap_or(true))
                .min_by_key(|(_, j)| j.started)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(old) => jobs.remove(&old),
                None => return Err(ApiError::busy("every search kept is still running")),
            };
        }
        jobs.insert(
            id.clone(),
            Job {
                done: done.clone(),
                total,
                outcome: outcome.clone(),
                polled: polled.clone(),
                started: Instant::now(),
            },
        );
    }
    let cancel = Arc::new(AtomicBool::new(false));
    watch(
        cancel.clone(),
        polled,
        outcome.clone(),
        state.limits.tune_abandon,
    );
    let running = Running::new(state.pool.counter());
    tokio::task::spawn_blocking(move || {
        let (_slot, _running) = (slot, running);
        let count = || {
            done.fetch_add(1, Ordering::Relaxed);
        };
        let landscape = Cancellable {
            inner: checked.landscape.as_ref(),
            cancel: &cancel,
        };
        let result = tune(&landscape, &checked.race.optimizers, &config, &count);
        let result = if cancel.load(Ordering::SeqCst) {
            Err(abandoned(state.limits.tune_abandon))
        } else {
            result
                .map(|tuning| results_json(&tuning))
                .map_err(|e| e.to_string())
        };
        *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    });
    Ok(Json(json!({ "id": id, "total": total })))
}

/// Why a search stopped that nobody asked about.
fn abandoned(after: Duration) -> String {
    format!(
        "the search was cancelled: nobody asked for its progress for {} s",
        number(after.as_secs_f64())
    )
}

/// Raises `cancel` once nobody has polled for `after`, unless the search is done.
fn watch(
    cancel: Arc<AtomicBool>,
    polled: Arc<Mutex<Instant>>,
    outcome: Arc<Mutex<Option<Result<Value, String>>>>,
    after: Duration,
) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(after / 4).await;
            if outcome.lock().map(|o| o.is_some()).unwrap_or(true) {
                return;
            }
            let last = *polled.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() > after {
                cancel.store(true, Ordering::SeqCst);
                return;
            }
        }
    });
}

/// Each optimizer's outcome as JSON.
fn results_json(tuning: &optimist_lab::tune::Tuning) -> Value {
    let results: Vec<Value> = tuning
        .results
        .iter()
        .map(|t| {
            json!({
                "optimizer": t.spec.to_string(),
                "key": t.key,
                "lr": t.best().lr,
                "tuned": t.tuned_spec().to_string(),
                "all_failed": t.all_failed(),
                "at_edge": t.at_edge,
            })
        })
        .collect();
    json!(results)
}

/// 404 for the search `id`.
fn unknown(id: &str) -> ApiError {
    let shown: String = id.chars().take(ID_LENGTH + 8).collect();
    ApiError::not_found(format!(
        "no search {}; ids are the {ID_LENGTH} lower-case hex digits POST /api/tune answered with",
        quoted(&shown)
    ))
}

/// `id` if written as ids are, else the 404 of a search that is not there.
pub(crate) fn read_id(id: &str) -> Result<&str, ApiError> {
    if well_formed(id) {
        Ok(id)
    } else {
        Err(unknown(id))
    }
}

/// `GET /api/tune/{id}`: `{done, total, finished, error?, results?}`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    read_id(&id)?;
    let jobs = state.tunings.jobs.lock().unwrap_or_else(|e| e.into_inner());
    let job = jobs.get(&id).ok_or_else(|| unknown(&id))?;
    *job.polled.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let outcome = job.outcome.lock().unwrap_or_else(|e| e.into_inner());
    let mut answer = json!({
        "done": job.done.load(Ordering::Relaxed).min(job.total),
        "total": job.total,
        "finished": outcome.is_some(),
    });
    match &*outcome {
        Some(Ok(results)) => answer["results"] = results.clone(),
        Some(Err(e)) => answer["error"] = e.clone().into(),
        None => {}
    }
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_only_their_own_form_is_read() {
        let (a, b) = (new_id().unwrap(), new_id().unwrap());
        assert_ne!(a, b);
        assert!(well_formed(&a) && well_formed(&b), "{a} {b}");
        let a = "0123456789abcdef0123456789abcdef";
        assert!(well_formed(a));
        for bad in [
            "1".to_string(),
            "+1".to_string(),
            "01".to_string(),
            a.to_uppercase(),
            format!("+{}", &a[1..]),
            format!("{a}0"),
            a[1..].to_string(),
            format!("{}g", &a[1..]),
        ] {
            assert!(!well_formed(&bad), "{bad}");
        }
    }
}
