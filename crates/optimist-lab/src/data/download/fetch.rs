//! One file: its listing checked, fetched with redirects kept to the mirror, streamed
//! into a temporary file while hashed, verified, and renamed into place.

use super::address::{host, origin, redact, resolve};
use super::files::{
    DownloadError, Event, FailureKind, RemoteFile, Settings, CHUNK, MAX_REDIRECTS, NETWORK_TIMEOUT,
};
use super::folder::temporary_file;
use md5::{Digest, Md5};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// A file entry must be a plain name (it is joined to the folder and the mirror) with
/// a 32-digit hexadecimal MD5.
pub(super) fn check_listing(file: &RemoteFile<'_>) -> Result<(), DownloadError> {
    let plain = !file.name.is_empty()
        && file.name != "."
        && file.name != ".."
        && !file.name.starts_with('.')
        && file
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !plain {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!(
                "'{}' is not a plain file name (letters, digits, '-', '_' and '.', not starting with '.')",
                file.name
            ),
        ));
    }
    if file.md5.len() != 32 || !file.md5.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DownloadError::new(
            FailureKind::Input,
            format!(
                "{}: the checksum '{}' is not an MD5 (32 hexadecimal digits)",
                file.name, file.md5
            ),
        ));
    }
    Ok(())
}

/// The HTTP client: statuses are answers to report, not errors; a mirror on this
/// machine is reached directly, never through a proxy from the environment.
pub(super) fn agent(base: &str, deadline: Duration) -> ureq::Agent {
    let wait = Some(NETWORK_TIMEOUT.min(deadline));
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Redirects are followed here, each checked against the mirror's host.
        .max_redirects(0)
        .timeout_global(Some(deadline))
        .timeout_connect(wait)
        .timeout_recv_response(wait)
        .timeout_per_read(wait)
        .user_agent(concat!("optimist/", env!("CARGO_PKG_VERSION")));
    let h = host(base);
    let loopback = h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        config = config.proxy(None);
    }
    config.build().into()
}

/// What is at a file's place in the folder.
pub(super) enum Existing {
    Missing,
    Good,
    Damaged(String),
}

pub(super) fn verify_existing(
    path: &Path,
    file: &RemoteFile<'_>,
) -> Result<Existing, DownloadError> {
    let folder_error = |e: std::io::Error| {
        DownloadError::new(
            FailureKind::Folder,
            format!("cannot read {}: {e}", path.display()),
        )
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(e) => return Err(folder_error(e)),
    };
    if !meta.is_file() {
        return Err(DownloadError::new(
            FailureKind::Folder,
            format!(
                "{} is in the way: it is not a file; move it elsewhere",
                path.display()
            ),
        ));
    }
    if meta.len() != file.size {
        return Ok(Existing::Damaged(format!(
            "it is {} bytes, not {}",
            meta.len(),
            file.size
        )));
    }
    let mut hasher = Md5::new();
    let mut reader = File::open(path).map_err(folder_error)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(folder_error(e)),
        }
    }
    let got = hex(&hasher.finalize());
    Ok(if got.eq_ignore_ascii_case(file.md5) {
        Existing::Good
    } else {
        Existing::Damaged(format!("its MD5 is {got}, not {}", file.md5))
    })
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Requests one file and puts it in place; the caller adds the file and address to
/// any error.
pub(super) fn fetch(
    agent: &ureq::Agent,
    url: &str,
    file: &RemoteFile<'_>,
    dir: &Path,
    path: &Path,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), DownloadError> {
    let started = std::time::Instant::now();
    let late = |done: &str| {
        DownloadError::new(
            FailureKind::Network,
            format!(
                "{done} within the {} s allowed for one file (--timeout)",
                settings.deadline.as_secs_f64()
            ),
        )
    };
    let mut current = url.to_string();
    let mut hops = 0;
    let response = loop {
        // Any error from here on is about the address last asked, not the first.
        let at = |mut e: DownloadError, current: &str| {
            if current != url {
                e.url = Some(redact(current));
                e.problem = format!("{} (redirected from {})", e.problem, redact(url));
            }
            e
        };
        let response = match agent.get(&current).call() {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => return Err(at(late("no answer"), &current)),
            Err(e) => {
                let problem = format!("cannot download from {}: {e}", host(&current));
                return Err(at(
                    DownloadError::new(FailureKind::Network, scrub(&problem, url)),
                    &current,
                ));
            }
        };
        let status = response.status();
        if !status.is_redirection() {
            if !status.is_success() {
                let problem = format!(
                    "{} answered {} {}",
                    host(&current),
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                );
                return Err(at(
                    DownloadError::new(
                        FailureKind::Status(status.as_u16()),
                        problem.trim_end().to_string(),
                    ),
                    &current,
                ));
            }
            break response;
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Some(location) = location else {
            return Err(at(
                DownloadError::new(
                    FailureKind::Status(status.as_u16()),
                    format!(
                        "{} answered {} without saying where to (no Location)",
                        host(&current),
                        status.as_u16()
                    ),
                ),
                &current,
            ));
        };
        let next = resolve(&current, &location);
        let scheme_ok = next.starts_with("http://") || next.starts_with("https://");
        if !scheme_ok || (!settings.other_hosts && origin(&next) != origin(url)) {
            return Err(at(
                DownloadError::new(
                    FailureKind::Redirect,
                    format!(
                        "{} redirects to {}, {}; refused (--allow-redirects follows redirects to other hosts)",
                        host(&current),
                        crate::text::quoted(&redact(&next)),
                        if scheme_ok {
                            "another host"
                        } else {
                            "not an http:// or https:// address"
                        }
                    ),
                ),
                &current,
            ));
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(at(
                DownloadError::new(
                    FailureKind::Redirect,
                    format!("more than {MAX_REDIRECTS} redirects"),
                ),
                &current,
            ));
        }
        current = next;
    };
    let shown = redact(&current);
    let blame = |mut e: DownloadError| {
        if current != url {
            e.url = Some(shown.clone());
        }
        e
    };
    if let Some(len) = response.body().content_length() {
        if len != file.size {
            return Err(blame(DownloadError::new(
                FailureKind::Size,
                format!(
                    "the mirror offers {len} bytes, but the file is {} bytes: it is not the published file",
                    file.size
                ),
            )));
        }
    }
    on_event(Event::Started {
        name: file.name,
        url: &shown,
        size: file.size,
    });
    let tmp = temporary_file(dir, file.name).map_err(|e| {
        DownloadError::new(
            FailureKind::Disk,
            format!("cannot create a temporary file in {}: {e}", dir.display()),
        )
    })?;
    let tmp_path = tmp.path().to_path_buf();
    let received = receive(
        response.into_body().into_reader(),
        tmp.as_file(),
        file,
        on_event,
    )
    .map_err(|e| {
        if e.kind == FailureKind::Network && started.elapsed() >= settings.deadline {
            late("not complete")
        } else {
            e
        }
    });
    let result = received.and_then(|()| {
        tmp.persist(path).map(drop).map_err(|e| {
            DownloadError::new(
                FailureKind::Disk,
                format!(
                    "cannot rename {} to {}: {}",
                    e.file.path().display(),
                    path.display(),
                    e.error
                ),
            )
        })
    });
    crate::output::untrack(&tmp_path);
    result.map_err(blame)
}

/// `text` without the `user:password@` of `url`, if it held any.
pub(super) fn scrub(text: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return text.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => text.replace(&rest[..=at], ""),
        None => text.to_string(),
    }
}

/// Streams the body into `tmp`, hashing it, and checks its size and checksum.
pub(super) fn receive(
    mut body: impl Read,
    mut out: &File,
    file: &RemoteFile<'_>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), DownloadError> {
    let disk_error = |e: std::io::Error| {
        DownloadError::new(
            FailureKind::Disk,
            format!("cannot write the temporary file of {}: {e}", file.name),
        )
    };
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(DownloadError::new(
                    FailureKind::Network,
                    format!(
                        "the transfer broke off after {done} of {} bytes: {e}",
                        file.size
                    ),
                ))
            }
        };
        if done + n as u64 > file.size {
            return Err(DownloadError::new(
                FailureKind::Size,
                format!(
                    "the mirror sent more than the file's {} bytes: it is not the published file",
                    file.size
                ),
            ));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(disk_error)?;
        done += n as u64;
        on_event(Event::Progress {
            name: file.name,
            done,
        });
    }
    if done < file.size {
        return Err(DownloadError::new(
            FailureKind::Network,
            format!("the transfer ended after {done} of {} bytes", file.size),
        ));
    }
    let got = hex(&hasher.finalize());
    if !got.eq_ignore_ascii_case(file.md5) {
        return Err(DownloadError::new(
            FailureKind::Checksum,
            format!(
                "the bytes received have MD5 {got}, not the published {}: the file was damaged on the way or the mirror holds a different one",
                file.md5
            ),
        ));
    }
    out.sync_all().map_err(disk_error)
}
