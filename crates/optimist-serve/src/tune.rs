//! `POST /api/tune` starts a learning-rate search (the lab's, as `optimist tune` runs
//! it) in the background; `GET /api/tune/{id}` reports its progress and, once done, each
//! optimizer's best rate and tuned spec.

use crate::{parse_body, ApiError, AppState, RaceRequest};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::Json;
use optimist_lab::tune::tune;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The most searches kept; the oldest finished one is forgotten first.
const MAX_JOBS: usize = 32;

/// One search: trials done of the total, and its outcome once finished.
struct Job {
    done: Arc<AtomicUsize>,
    total: usize,
    outcome: Arc<Mutex<Option<Result<Value, String>>>>,
}

/// Every search kept, by id.
#[derive(Default)]
pub(crate) struct Jobs {
    next: AtomicUsize,
    jobs: Mutex<BTreeMap<usize, Job>>,
}

/// `POST /api/tune`: `{id, total}`.
pub(crate) async fn start(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: RaceRequest = parse_body(body)?;
    let (checked, config) = request.check_tune()?;
    let total = checked.race.optimizers.len() * config.search.trials();
    let done = Arc::new(AtomicUsize::new(0));
    let outcome = Arc::new(Mutex::new(None));
    let id = state.tunings.next.fetch_add(1, Ordering::Relaxed);
    {
        let mut jobs = state.tunings.jobs.lock().unwrap_or_else(|e| e.into_inner());
        while jobs.len() >= MAX_JOBS {
            let finished = jobs.iter().find_map(|(&id, j)| {
                let over = j.outcome.lock().map(|o| o.is_some()).unwrap_or(true);
                over.then_some(id)
            });
            match finished {
                Some(old) => jobs.remove(&old),
                None => {
                    return Err(ApiError::timeout(format!(
                        "{MAX_JOBS} searches are under way; wait for one to finish"
                    )))
                }
            };
        }
        jobs.insert(
            id,
            Job {
                done: done.clone(),
                total,
                outcome: outcome.clone(),
            },
        );
    }
    tokio::task::spawn_blocking(move || {
        let count = || {
            done.fetch_add(1, Ordering::Relaxed);
        };
        let result = tune(
            checked.landscape.as_ref(),
            &checked.race.optimizers,
            &config,
            &count,
        )
        .map(|tuning| {
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
        })
        .map_err(|e| e.to_string());
        *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    });
    Ok(Json(json!({ "id": id, "total": total })))
}

/// `GET /api/tune/{id}`: `{done, total, finished, error?, results?}`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let unknown = || {
        ApiError::not_found(format!(
            "no search {}; start one with POST /api/tune",
            optimist_lab::text::quoted(&id)
        ))
    };
    let key: usize = id.parse().map_err(|_| unknown())?;
    let jobs = state.tunings.jobs.lock().unwrap_or_else(|e| e.into_inner());
    let job = jobs.get(&key).ok_or_else(unknown)?;
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
