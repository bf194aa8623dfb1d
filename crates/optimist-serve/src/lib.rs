//! # optimist-serve
//!
//! `optimist serve`: a live optimizer playground in the browser. The page (served from
//! the binary, nothing fetched) sends every change to the server, where the lab's race
//! code computes the trajectories, so the numbers are those of `optimist compare`.
//!
//! ## The JSON API
//!
//! - `GET /` — the page.
//! - `GET /api/landscapes` — the built-in landscapes: name, formula, window, minima,
//!   start.
//! - `GET /api/optimizers` — every optimizer: name, convention, formula, paper, and each
//!   hyperparameter's default, range (`min`, `max`, whether each end is allowed) and doc.
//! - `POST /api/landscape` — `{function, window?}`: the landscape to draw: its formula,
//!   window, start, minima and contour lines (as the html view embeds them). A formula
//!   that does not parse is refused with its `column`.
//! - `POST /api/race` — [`RaceRequest`]: `{function?, window?, start?, steps?,
//!   optimizers: ["spec", ...], convention?}` → [`RaceResponse`]: `{runs: [{optimizer,
//!   hyperparameters, trajectory: [[x, y, loss], ...], status, diverged_at}]}`, the
//!   numbers those of `optimist compare`'s `trajectories.csv`.
//! - `POST /api/export/{png|svg|gif|csv}` — the same request: the overlay figure, the
//!   animation or the CSV, through the lab's figure code.
//! - `POST /api/tune` — the same request: starts the learning-rate search (as `optimist
//!   tune` runs it) and returns `{id, total}`; `GET /api/tune/{id}` → `{done, total,
//!   finished, error?, results?}`. A search cannot be cut off midway, so one of more
//!   than [`MAX_TUNE_UPDATES`] updates is refused up front.
//!
//! ## What is refused
//!
//! Each refusal is a 400 with `{"error": "..."}` worded as the CLI words it: malformed
//! JSON, unknown names, out-of-range values, more than [`MAX_STEPS`] steps, more than
//! [`MAX_OPTIMIZERS`] optimizers, a formula longer than [`MAX_FORMULA`] characters, a
//! body over [`MAX_BODY`] bytes. A computation runs on tokio's blocking pool; one that
//! takes longer than [`Limits::timeout`] is answered with 503 and blocks no other
//! request.

#![warn(missing_docs)]

pub mod client;
mod error;
mod export;
mod page;
mod problem;
mod tune;

pub use error::ApiError;
pub use problem::{
    RaceRequest, RaceResponse, RunJson, MAX_FORMULA, MAX_OPTIMIZERS, MAX_STEPS, MAX_TUNE_UPDATES,
};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The largest request body read, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// How long a computation may run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A race, export or landscape that takes longer is answered with 503.
    pub timeout: Duration,
}

impl Default for Limits {
    /// Five seconds.
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(5),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
struct AppState {
    limits: Limits,
    tunings: Arc<tune::Jobs>,
}

/// The server's routes, with `limits`.
pub fn router(limits: Limits) -> Router {
    let state = AppState {
        limits,
        tunings: Arc::new(tune::Jobs::default()),
    };
    Router::new()
        .route("/", get(page::index))
        .route("/api/landscapes", get(landscapes))
        .route("/api/optimizers", get(optimizers))
        .route("/api/landscape", post(landscape))
        .route("/api/race", post(race))
        .route("/api/export/{format}", post(export::export))
        .route("/api/tune", post(tune::start))
        .route("/api/tune/{id}", get(tune::status))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves [`router`] on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, limits: Limits) -> std::io::Result<()> {
    axum::serve(listener, router(limits)).await
}

/// Serves [`router`] on 127.0.0.1 at a free port from a thread of its own (with its
/// own runtime) for as long as the process lives, and returns the address: for tests,
/// benchmarks and embedding.
pub fn spawn(limits: Limits) -> std::io::Result<std::net::SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("optimist-serve".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                serve(listener, limits).await
            })
        })?;
    Ok(addr)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no such page: {}; the API is under /api (see GET /api/landscapes, GET /api/optimizers, POST /api/race)",
        optimist_lab::text::quoted(uri.path())
    ))
}

/// Runs `work` on the blocking pool, cut off after the timeout: the request is answered
/// at once, and `work` sees its flag raised so it stops at its next check.
async fn compute<T: Send + 'static>(
    limits: Limits,
    what: &str,
    work: impl FnOnce(&AtomicBool) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let task = tokio::task::spawn_blocking(move || work(&flag));
    match tokio::time::timeout(limits.timeout, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(ApiError::internal(format!("the {what} failed: {e}"))),
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            Err(ApiError::timeout(format!(
                "the {what} took longer than {} s and was cut off; ask for fewer steps or optimizers",
                optimist_lab::text::number(limits.timeout.as_secs_f64())
            )))
        }
    }
}

/// The body as a [`RaceRequest`], or why not.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::bad(format!(
                "the request body is over {} KiB; at most {MAX_BODY} bytes are read",
                MAX_BODY / 1024
            ))
        } else {
            ApiError::bad(format!("the request body could not be read: {e}"))
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad(format!("the request is not the JSON expected: {e}")))
}

async fn landscapes() -> Json<Value> {
    Json(problem::landscapes_json())
}

async fn optimizers() -> Json<Value> {
    Json(problem::optimizers_json())
}

async fn landscape(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: problem::LandscapeRequest = parse_body(body)?;
    let value = compute(state.limits, "landscape", move |_| {
        let landscape = request.resolve()?;
        problem::landscape_json(landscape.as_ref())
    })
    .await?;
    Ok(Json(value))
}

async fn race(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<RaceResponse>, ApiError> {
    let request: RaceRequest = parse_body(body)?;
    let response = compute(state.limits, "race", move |cancel| {
        let race = request.check()?;
        let runs = race.run(cancel)?;
        Ok(RaceResponse::new(&runs))
    })
    .await?;
    Ok(Json(response))
}

/// `{"error": message}`.
pub(crate) fn error_json(message: &str) -> Value {
    json!({ "error": message })
}
