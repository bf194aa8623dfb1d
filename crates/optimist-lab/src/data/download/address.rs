//! Addresses: the mirror's checked, redirects resolved against it, and passwords kept
//! out of messages.

use super::files::{DownloadError, FailureKind, MNIST_MIRROR};

/// The mirror's address, checked, ending in `/` so that file names can follow it.
pub(super) fn mirror_base(given: &str) -> Result<String, DownloadError> {
    let given = given.trim();
    let mirror = &redact(given);
    if let Some(c) = given.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!(
                "the mirror {} holds the character {c:?}; give an address such as {MNIST_MIRROR}",
                crate::text::quoted(mirror)
            ),
        ));
    }
    let scheme_end = mirror.find("://").map_or(0, |i| i + 3);
    let scheme = mirror[..scheme_end].to_ascii_lowercase();
    if scheme != "http://" && scheme != "https://" {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!(
                "the mirror '{mirror}' is not an http:// or https:// address (e.g. {MNIST_MIRROR})"
            ),
        ));
    }
    if host(mirror).is_empty() {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!("the mirror '{mirror}' names no host (e.g. {MNIST_MIRROR})"),
        ));
    }
    let authority = mirror.split_once("://").map_or("", |(_, r)| r);
    let authority = authority.split('/').next().unwrap_or("");
    let after_host = authority.rsplit(']').next().unwrap_or("");
    let port_ok = after_host
        .split_once(':')
        .is_none_or(|(_, p)| p.is_empty() || p.parse::<u16>().is_ok());
    if !port_ok {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!("the mirror '{mirror}' has a port outside 0 to 65535"),
        ));
    }
    if let Err(e) = given.parse::<ureq::http::Uri>() {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!("the mirror '{mirror}' is not a valid address ({e}); e.g. {MNIST_MIRROR}"),
        ));
    }
    if mirror.contains(['?', '#']) {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!(
                "the mirror '{mirror}' has a query or fragment; give the address of the folder holding the files"
            ),
        ));
    }
    Ok(if given.ends_with('/') {
        given.to_string()
    } else {
        format!("{given}/")
    })
}

/// An address without the `user:password@` it may hold, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The scheme and authority of an address (without user), lowercased: what a redirect
/// must keep to stay on the mirror.
pub(super) fn origin(url: &str) -> String {
    let url = redact(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("", &url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!("{}://{}", scheme, &rest[..end]).to_ascii_lowercase()
}

/// Where a redirect's `Location` leads from `current`.
pub(super) fn resolve(current: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = current.split_once("://").unwrap_or(("http", current));
    if let Some(rest_of) = location.strip_prefix("//") {
        return format!("{scheme}://{rest_of}");
    }
    let end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..end];
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = &rest[end..];
    let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let folder = if folder.is_empty() { "/" } else { folder };
    format!("{scheme}://{authority}{folder}{location}")
}

/// The host of an `http(s)://` address, without user, port or brackets.
pub(super) fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}
