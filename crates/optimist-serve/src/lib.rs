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
//! - `GET /api/status` — the load: `{jobs, tunes, connections}` running or open now,
//!   and the caps of [`Limits`].
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
//!   finished, error?, results?}`. The id is 128 random bits in 32 lower-case hex
//!   digits; anything else is a 404.
//!
//! ## What is refused
//!
//! Each refusal is a status with `{"error": "..."}` worded as the CLI words it:
//!
//! - 400: malformed JSON, unknown names, out-of-range values, more than [`MAX_STEPS`]
//!   steps, more than [`MAX_OPTIMIZERS`] optimizers, a formula longer than
//!   [`MAX_FORMULA`] characters, or work over the budget ([`Limits::budget`],
//!   [`Limits::tune_budget`]): work is counted before any is done, as steps × the
//!   cost of a step on the landscape (a long formula costs more than `x^2`), plus the
//!   points drawn (and for the animation, per trail); the message gives the count and
//!   the limit (see [`budget`]).
//! - 403: a `Host` that is not the served address (`127.0.0.1`, `localhost`, `[::1]`,
//!   or the host listened on, with the port), which stops DNS rebinding; an `Origin`,
//!   when sent, other than the server's own page, which stops other sites' pages.
//! - 415: a POST whose `Content-Type` is not `application/json` (a page of another site
//!   can post a form or text without asking the browser first, but not JSON).
//! - 413: a body declared (or found) over [`MAX_BODY`] bytes, refused before reading.
//! - 408: a body not read whole within [`Limits::body_timeout`].
//! - 503: a computation over [`Limits::timeout`], answered at once; or every slot
//!   taken ([`Limits::max_jobs`] computations, [`Limits::max_tunes`] searches, or
//!   [`Limits::max_connections`] busy connections), with `Retry-After`.
//!
//! ## Work and connections are bounded
//!
//! A computation runs on tokio's blocking pool, at most [`Limits::max_jobs`] at once
//! (a request waits for a slot until its deadline). Its inner loops (every step of a
//! race or tuning, every frame of the animation) check a flag raised when its deadline
//! passes or its client disconnects, so no work outlives its answer. A search nobody
//! has polled for [`Limits::tune_abandon`] is cancelled. A connection is closed when
//! no whole request header arrives within [`Limits::header_timeout`] (which also ends
//! idle kept-alive connections); at most [`Limits::max_connections`] are open, a new
//! one closing the one idle the longest.

#![warn(missing_docs)]

pub mod budget;
pub mod client;
mod error;
mod export;
mod guard;
mod listen;
mod page;
mod problem;
mod tune;
mod vet;
mod work;

pub use error::ApiError;
pub use problem::{RaceRequest, RaceResponse, RunJson, MAX_FORMULA, MAX_OPTIMIZERS, MAX_STEPS};
pub use vet::vet;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use guard::Body;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body read, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// How long and how much the server works and waits for anyone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// A race, export or landscape not answered in this time (waiting for a slot
    /// included) is answered with 503 and its work stopped [default: 5 s].
    pub timeout: Duration,
    /// A connection without a whole request header this long after it opened or
    /// answered its last request is closed [default: 10 s].
    pub header_timeout: Duration,
    /// A request body not read whole in this time is answered 408 [default: 10 s].
    pub body_timeout: Duration,
    /// The most connections open at once [default: 256].
    pub max_connections: usize,
    /// The most races, exports and landscapes computed at once [default: the cores].
    pub max_jobs: usize,
    /// The most searches running at once [default: 2].
    pub max_tunes: usize,
    /// A search whose progress nobody asked for this long is cancelled [default: 10 s].
    pub tune_abandon: Duration,
    /// The most work of one race, export or landscape, in [`budget`]'s units
    /// [default: [`budget::MAX_WORK`]].
    pub budget: u64,
    /// The most work of one search [default: [`budget::MAX_TUNE_WORK`]].
    pub tune_budget: u64,
}

impl Default for Limits {
    /// As each field says.
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 256,
            max_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_tunes: 2,
            tune_abandon: Duration::from_secs(10),
            budget: budget::MAX_WORK,
            tune_budget: budget::MAX_TUNE_WORK,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
struct AppState {
    limits: Limits,
    allowed: Arc<guard::Allowed>,
    pool: Arc<work::Pool>,
    tunings: Arc<tune::Jobs>,
    connections: Arc<listen::Connections>,
}

/// The server's routes for the server at `addr` (also answering to `names`).
fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/api/landscapes", get(landscapes))
        .route("/api/optimizers", get(optimizers))
        .route("/api/status", get(status))
        .route("/api/landscape", post(landscape))
        .route("/api/race", post(race))
        .route("/api/export/{format}", post(export::export))
        .route("/api/tune", post(tune::start))
        .route("/api/tune/{id}", get(tune::status))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves the API on `listener` until the process ends, within `limits`. Requests
/// must name the address listened on (or `localhost`, `127.0.0.1`, `[::1]`), or one
/// of `names` (e.g. the host name it was asked to listen on), with its port.
pub async fn serve(
    listener: tokio::net::TcpListener,
    limits: Limits,
    names: &[String],
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let connections = Arc::new(listen::Connections::default());
    let state = AppState {
        limits,
        allowed: Arc::new(guard::Allowed::new(addr, names)),
        pool: Arc::new(work::Pool::new(limits.max_jobs)),
        tunings: Arc::new(tune::Jobs::new(limits.max_tunes)),
        connections: connections.clone(),
    };
    listen::accept_loop(listener, app(state), connections, limits).await
}

/// Serves the API on 127.0.0.1 at a free port from a thread of its own (with its own
/// runtime) for as long as the process lives, and returns the address: for tests,
/// benchmarks and embedding.
pub fn spawn(limits: Limits) -> std::io::Result<SocketAddr> {
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
                serve(listener, limits, &[]).await
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

/// The body as the request type `T`, or why not.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    bytes: axum::body::Bytes,
) -> Result<T, ApiError> {
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad(format!("the request is not the JSON expected: {e}")))
}

async fn landscapes() -> Json<Value> {
    Json(problem::landscapes_json())
}

async fn optimizers() -> Json<Value> {
    Json(problem::optimizers_json())
}

/// `GET /api/status`.
async fn status(State(state): State<AppState>) -> Json<Value> {
    let l = &state.limits;
    Json(json!({
        "jobs": state.pool.running(),
        "tunes": state.tunings.running(),
        "connections": state.connections.count(),
        "max_jobs": l.max_jobs,
        "max_tunes": l.max_tunes,
        "max_connections": l.max_connections,
    }))
}

async fn landscape(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<Value>, ApiError> {
    let request: problem::LandscapeRequest = parse_body(body)?;
    let landscape = request.resolve()?;
    let value = work::compute(&state, "landscape", move |_| {
        problem::landscape_json(landscape.as_ref())
    })
    .await?;
    Ok(Json(value))
}

async fn race(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<RaceResponse>, ApiError> {
    let request: RaceRequest = parse_body(body)?;
    let race = request.check()?;
    budget::race(race.size(), budget::Output::Runs, state.limits.budget)?;
    let response = work::compute(&state, "race", move |cancel| {
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
