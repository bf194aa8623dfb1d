//! Everything the server checks of a request before any work, in one call: what the
//! fuzz target drives (the handlers run the same checks, one by one, then the work).

use crate::budget::{self, Output};
use crate::guard::{refusal, Allowed};
use crate::problem::LandscapeRequest;
use crate::{parse_body, ApiError, Limits, RaceRequest};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};

/// Checks a request for the server on 127.0.0.1:8765 as the server would: the
/// headers (`Host`, `Origin`, `Content-Type`, `Content-Length`), then for each POST
/// endpoint the body and its budget under `limits`, for `GET /api/tune/{id}` the id.
/// `Ok` means the server would start the work. Headers that HTTP cannot carry are
/// skipped, as the server never sees them.
pub fn vet(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    limits: &Limits,
) -> Result<(), ApiError> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|e| ApiError::bad(format!("no such method: {e}")))?;
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    let allowed = Allowed::new(([127, 0, 0, 1], 8765).into(), &[]);
    if let Some(e) = refusal(&allowed, &method, &map) {
        return Err(e);
    }
    if body.len() > crate::MAX_BODY {
        return Err(crate::guard::too_large(&format!("{} bytes", body.len())));
    }
    let bytes = axum::body::Bytes::copy_from_slice(body);
    match (method.as_str(), path) {
        ("POST", "/api/landscape") => {
            parse_body::<LandscapeRequest>(bytes)?.resolve()?;
        }
        ("POST", "/api/race") => {
            let checked = parse_body::<RaceRequest>(bytes)?.check()?;
            budget::race(checked.size(), Output::Runs, limits.budget)?;
        }
        ("POST", "/api/tune") => {
            let (checked, config) = parse_body::<RaceRequest>(bytes)?.check_tune()?;
            budget::tune(checked.size(), config.search.trials(), limits.tune_budget)?;
        }
        ("POST", _) if path.starts_with("/api/export/") => {
            let output = crate::export::output(&path["/api/export/".len()..])?.1;
            let checked = parse_body::<RaceRequest>(bytes)?.check()?;
            budget::race(checked.size(), output, limits.budget)?;
        }
        ("GET", _) if path.starts_with("/api/tune/") => {
            crate::tune::read_id(&path["/api/tune/".len()..])?;
        }
        _ => {}
    }
    Ok(())
}
