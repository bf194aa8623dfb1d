//! Refusals and failures as HTTP responses: a status and `{"error": "..."}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a request was not answered: the status and the message, worded as the CLI words
/// it, and for a formula that does not parse, the column where reading stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// 400 for bad input, 403 for a foreign page or host, 404, 408 for a body that
    /// did not arrive in time, 413 for one too large, 415 for one not declared JSON,
    /// 503 for a computation cut off or a server busy, 500 otherwise.
    pub status: StatusCode,
    /// What was wrong, and what is allowed.
    pub message: String,
    /// The formula's column (1 for the first character), when it did not parse.
    pub column: Option<usize>,
    /// Seconds after which to try again (sent as `Retry-After`), when the server is busy.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            column: None,
            retry_after: None,
        }
    }

    /// Bad input: 400.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// No such page: 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// A computation cut off: 503.
    pub fn timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// Every slot for work taken: 503, to be tried again in a second.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    /// A failure of the server's own: 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<optimist::Error> for ApiError {
    fn from(e: optimist::Error) -> ApiError {
        ApiError::bad(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = crate::error_json(&self.message);
        if let Some(column) = self.column {
            body["column"] = column.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
