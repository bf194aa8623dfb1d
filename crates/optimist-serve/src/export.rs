//! `POST /api/export/{png|svg|gif|csv}`: the race of the request as a file, through the
//! lab's figure code (the overlay view, the animation) or its CSV.

use crate::budget::{self, Output};
use crate::guard::Body;
use crate::work::{compute, Cancellable};
use crate::{parse_body, ApiError, AppState, RaceRequest};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use optimist_lab::figure::{animation_until, overlay, FigureError, Format};
use optimist_lab::output::trajectories_csv;

/// The formats exported, with their media types.
const FORMATS: [(&str, &str); 4] = [
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("gif", "image/gif"),
    ("csv", "text/csv; charset=utf-8"),
];

/// `format`'s name and media type, and what kind of output it is.
pub(crate) fn output(format: &str) -> Result<((&'static str, &'static str), Output), ApiError> {
    let Some(&(name, media)) = FORMATS.iter().find(|(n, _)| *n == format) else {
        let known: Vec<&str> = FORMATS.iter().map(|(n, _)| *n).collect();
        let shown: String = format.chars().take(40).collect();
        return Err(ApiError::bad(format!(
            "unknown export format {}; known formats: {}",
            optimist_lab::text::quoted(&shown),
            known.join(", ")
        )));
    };
    let output = match name {
        "png" | "svg" => Output::Figure,
        "gif" => Output::Animation,
        _ => Output::Runs,
    };
    Ok(((name, media), output))
}

/// The race's file in `format`.
pub(crate) async fn export(
    State(state): State<AppState>,
    Path(format): Path<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let ((name, media), output) = output(&format)?;
    let request: RaceRequest = parse_body(body)?;
    let checked = request.check()?;
    budget::race(checked.size(), output, state.limits.budget)?;
    let bytes = compute(&state, "export", move |cancel| {
        let runs = checked.run(cancel)?;
        // The contours are computed on it too: they stop as soon as the flag rises.
        let landscape = &Cancellable {
            inner: checked.landscape.as_ref(),
            cancel,
        };
        let figure = |e: FigureError| match e {
            FigureError::Cancelled => ApiError::timeout("the export was cut off"),
            e => ApiError::bad(e.to_string()),
        };
        Ok(match name {
            "png" => overlay(landscape, &runs, Format::Png).map_err(figure)?,
            "svg" => overlay(landscape, &runs, Format::Svg).map_err(figure)?,
            "gif" => animation_until(landscape, &runs, cancel).map_err(figure)?,
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
