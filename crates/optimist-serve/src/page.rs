//! The playground page: HTML, script and style, embedded in the binary (nothing is
//! fetched, so it works offline).

use axum::http::header;
use axum::response::IntoResponse;

/// The page's HTML, with `{{STYLE}}` and `{{SCRIPT}}` slots.
const HTML: &str = include_str!("page/index.html");
/// Its style.
const STYLE: &str = include_str!("page/page.css");
/// Its script.
const SCRIPT: &str = include_str!("page/page.js");

/// The whole page, style and script inline.
pub fn html() -> String {
    HTML.replace("{{STYLE}}", STYLE)
        .replace("{{SCRIPT}}", SCRIPT)
}

/// `GET /`.
pub(crate) async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html())
}
