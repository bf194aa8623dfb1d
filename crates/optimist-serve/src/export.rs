//! `POST /api/export/{png|svg|gif|csv}`: the race of the request as a file, through the
//! lab's figure code (the overlay view, the animation) or its CSV.

use crate::{compute, parse_body, ApiError, AppState, RaceRequest};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use optimist_lab::figure::{animation, overlay, Format};
use optimist_lab::output::trajectories_csv;

/// The formats exported, with their media types.
const FORMATS: [(&str, &str); 4] = [
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("gif", "image/gif"),
    ("csv", "text/csv; charset=utf-8"),
];

/// The race's file in `format`.
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(format): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(&(name, media)) = FORMATS.iter().find(|(n, _)| *n == format) else {
        let known: Vec<&str> = FORMATS.iter().map(|(n, _)| *n).collect();
        return Err(ApiError::bad(format!(
            "unknown export format {}; known formats: {}",
            optimist_lab::text::quoted(&format),
            known.join(", ")
        )));
    };
    let request: RaceRequest = parse_body(body)?;
    let bytes = compute(state.limits, "export", move |cancel| {
        let checked = request.check()?;
        let runs = checked.run(cancel)?;
        let landscape = checked.landscape.as_ref();
        let figure = |e: optimist_lab::figure::FigureError| ApiError::bad(e.to_string());
        Ok(match name {
            "png" => overlay(landscape, &runs, Format::Png).map_err(figure)?,
            "svg" => overlay(landscape, &runs, Format::Svg).map_err(figure)?,
            "gif" => animation(landscape, &runs).map_err(figure)?,
            _ => trajectories_csv(&runs).into_bytes(),
        })
    })
    .await?;
    let file = if name == "csv" {
        "trajectories.csv".to_string()
    } else if name == "gif" {
        "compare.gif".to_string()
    } else {
        format!("overlay.{name}")
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
