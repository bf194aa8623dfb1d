//! Who may drive the server, checked before any handler runs: a `Host` that names the
//! served address (a page on another site that rebinds its DNS name to 127.0.0.1 still
//! sends its own name), an `Origin`, when sent, that is the served page's own (another
//! site's page may post to the server without asking the browser first, as a form or
//! text/plain), a POST body declared JSON (which such a page cannot send without the
//! browser asking the server first) and not declared over [`MAX_BODY`]. The body is
//! then read within [`Limits::body_timeout`](crate::Limits::body_timeout).

use crate::{ApiError, AppState, MAX_BODY};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use optimist_lab::text::quoted;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The `Host` values the server answers to: a name among `names` and the port.
#[derive(Debug, Clone)]
pub(crate) struct Allowed {
    port: u16,
    /// Lower case; IPv6 addresses in brackets.
    names: Vec<String>,
    /// Listening on every address (0.0.0.0 or ::): any address literal names it too
    /// (an address cannot be rebound, a name can).
    any_address: bool,
}

/// `ip` as it appears in a `Host`: IPv6 in brackets.
fn host_form(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// Whether `name` (from a `Host`, port cut off) is an address literal.
fn is_address(name: &str) -> bool {
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|n| n.parse::<Ipv6Addr>().is_ok())
}

impl Allowed {
    /// The names of the loopback interface and of `addr`, and `names` (e.g. the
    /// `--host` given), each with `addr`'s port.
    pub(crate) fn new(addr: SocketAddr, names: &[String]) -> Allowed {
        let mut all: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .map(String::from)
            .to_vec();
        let ip = addr.ip();
        if !ip.is_unspecified() && !all.contains(&host_form(ip)) {
            all.push(host_form(ip));
        }
        for name in names {
            let name = match name.parse::<IpAddr>() {
                Ok(ip) if ip.is_unspecified() => continue,
                Ok(ip) => host_form(ip),
                Err(_) => name.trim().to_ascii_lowercase(),
            };
            if !name.is_empty() && !all.contains(&name) {
                all.push(name);
            }
        }
        Allowed {
            port: addr.port(),
            names: all,
            any_address: ip.is_unspecified(),
        }
    }

    /// Whether `host` (`name:port`) names this server.
    fn host(&self, host: &str) -> bool {
        let Some((name, port)) = host.rsplit_once(':') else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        port == self.port.to_string()
            && (self.names.contains(&name) || (self.any_address && is_address(&name)))
    }

    /// What a `Host` may be, for messages.
    fn describe(&self) -> String {
        let mut list: Vec<String> = self
            .names
            .iter()
            .map(|n| format!("{n}:{}", self.port))
            .collect();
        if self.any_address {
            list.push(format!("ADDRESS:{}", self.port));
        }
        list.join(", ")
    }
}

/// `name`'s value as text, if sent once and readable.
fn single(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<&str>, ()> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    first.map(|v| v.to_str().map_err(|_| ())).transpose()
}

/// The refusal of `request`, if any.
pub(crate) fn refusal(allowed: &Allowed, method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    let forbidden = |m: String| Some(ApiError::new(StatusCode::FORBIDDEN, m));
    match single(headers, header::HOST) {
        Ok(Some(host)) if allowed.host(host) => {}
        Ok(Some(host)) => {
            return forbidden(format!(
                "this server does not answer to the host {}; it answers to {}",
                quoted(host),
                allowed.describe()
            ))
        }
        _ => {
            return forbidden(format!(
                "the request needs one Host header; this server answers to {}",
                allowed.describe()
            ))
        }
    }
    match single(headers, header::ORIGIN) {
        Ok(None) => {}
        Ok(Some(origin))
            if origin
                .strip_prefix("http://")
                .is_some_and(|host| allowed.host(host)) => {}
        Ok(Some(origin)) => {
            return forbidden(format!(
                "requests from the page at {} are refused: only the server's own page (http://{}) may drive it",
                quoted(origin),
                allowed.describe()
            ))
        }
        Err(()) => return forbidden("the request has more than one Origin header".into()),
    }
    if method == Method::POST {
        let kind = single(headers, header::CONTENT_TYPE).ok().flatten();
        let json = kind.is_some_and(|k| {
            k.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json {
            return Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "the request body must be JSON sent with Content-Type: application/json; {}",
                    match kind {
                        Some(k) => format!("got {}", quoted(k)),
                        None => "none was given".into(),
                    }
                ),
            ));
        }
        let length = single(headers, header::CONTENT_LENGTH).ok().flatten();
        if let Some(n) = length.and_then(|n| n.trim().parse::<u64>().ok()) {
            if n > MAX_BODY as u64 {
                return Some(too_large(&format!("{n} bytes")));
            }
        }
    }
    None
}

/// 413 for a body of `size`.
pub(crate) fn too_large(size: &str) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body is {size}, over {} KiB; at most {MAX_BODY} bytes are read",
            MAX_BODY / 1024
        ),
    )
}

/// The middleware: refuses what [`refusal`] refuses, else runs the handler.
pub(crate) async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match refusal(&state.allowed, request.method(), request.headers()) {
        Some(e) => e.into_response(),
        None => next.run(request).await,
    }
}

/// A POST body, read whole within the body timeout and at most [`MAX_BODY`] bytes.
pub(crate) struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Body, ApiError> {
        let limit = state.limits.body_timeout;
        match tokio::time::timeout(limit, Bytes::from_request(request, state)).await {
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    optimist_lab::text::number(limit.as_secs_f64())
                ),
            )),
            Ok(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large("larger")),
            Ok(Err(e)) => Err(ApiError::bad(format!(
                "the request body could not be read: {e}"
            ))),
            Ok(Ok(bytes)) => Ok(Body(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Allowed;

    #[test]
    fn each_allowed_host_is_named_once() {
        let allowed = Allowed::new("127.0.0.1:8765".parse().unwrap(), &["LocalHost".into()]);
        assert_eq!(
            allowed.describe(),
            "localhost:8765, 127.0.0.1:8765, [::1]:8765"
        );
        let wide = Allowed::new("0.0.0.0:80".parse().unwrap(), &["box.lan".into()]);
        assert_eq!(
            wide.describe(),
            "localhost:80, 127.0.0.1:80, [::1]:80, box.lan:80, ADDRESS:80"
        );
        assert!(wide.host("192.168.1.7:80") && wide.host("BOX.lan:80"));
        assert!(!wide.host("box.lan:81") && !allowed.host("attacker.example:8765"));
    }
}
