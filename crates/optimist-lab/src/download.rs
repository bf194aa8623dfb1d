//! Downloading MNIST: the four files from a mirror into a cache folder, each checked
//! against its published size and MD5 before it appears under its own name.
//!
//! A file is streamed into a temporary file in the same folder
//! ([`temporary_file`], `.NAME.PID.RANDOM.part`) and hashed as it arrives; it is renamed into
//! place only once its size and checksum are right. On any failure the temporary file
//! is removed, so the folder holds whole, verified files and nothing else. Files
//! already present with the right checksum are not downloaded again; a present file
//! with the wrong size or checksum is replaced (only once its replacement is verified).
//!
//! The checksums are the MD5s torchvision publishes: they catch damage in transit and
//! a mirror serving other files, not deliberate tampering.

use md5::{Digest, Md5};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public mirror torchvision downloads MNIST from.
pub const MNIST_MIRROR: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";

/// The four MNIST files, test set first: with the test set alone `optimist train`
/// already runs (on part of it), so a download cut short still leaves something usable.
pub const MNIST_FILES: [RemoteFile<'static>; 4] = [
    RemoteFile {
        name: "t10k-images-idx3-ubyte.gz",
        size: 1_648_877,
        md5: "9fb629c4189551a2d022fa330f9573f3",
    },
    RemoteFile {
        name: "t10k-labels-idx1-ubyte.gz",
        size: 4_542,
        md5: "ec29112dd5afa0611ce80d1b7f02629c",
    },
    RemoteFile {
        name: "train-images-idx3-ubyte.gz",
        size: 9_912_422,
        md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    },
    RemoteFile {
        name: "train-labels-idx1-ubyte.gz",
        size: 28_881,
        md5: "d53e105ee54ea40749a09fcbcd1e9432",
    },
];

/// How long to wait for a connection, and for each read once connected, before giving
/// up on a mirror.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest one file's download may take by default, from the request to the last
/// byte (11.6 MB at 20 KB/s).
pub const DEADLINE: Duration = Duration::from_secs(600);

/// Redirects followed at most for one file.
const MAX_REDIRECTS: usize = 5;

/// How a download may go: how long, and where redirects may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The longest one file's download may take, from the request to the last byte,
    /// however slowly the bytes come.
    pub deadline: Duration,
    /// Whether a redirect may lead to another host, port or scheme than the mirror's.
    pub other_hosts: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deadline: DEADLINE,
            other_hosts: false,
        }
    }
}

/// Bytes read from the network at a time.
const CHUNK: usize = 64 * 1024;

/// A file to download: its name on the mirror and in the folder, its size in bytes and
/// its MD5 (32 hexadecimal digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile<'a> {
    /// The file name, on the mirror and on disk.
    pub name: &'a str,
    /// Its exact size in bytes.
    pub size: u64,
    /// Its MD5, in hexadecimal.
    pub md5: &'a str,
}

/// What kind of failure a [`DownloadError`] is, to choose the advice to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The mirror address or the file list is not usable as given.
    Input,
    /// The folder cannot be created or read.
    Folder,
    /// The mirror could not be reached, or the transfer broke off.
    Network,
    /// The mirror answered with this HTTP status instead of the file.
    Status(u16),
    /// The mirror sent more or fewer bytes than the file has.
    Size,
    /// The bytes received are not the published file.
    Checksum,
    /// The mirror redirected elsewhere than allowed, or too often.
    Redirect,
    /// The file could not be written or renamed into place.
    Disk,
}

/// A failed download: what failed, for which file and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadError {
    /// What kind of failure this is.
    pub kind: FailureKind,
    /// The file being downloaded, if any.
    pub file: Option<String>,
    /// The address it was requested from, if it got that far.
    pub url: Option<String>,
    /// What went wrong.
    pub problem: String,
}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, &self.url) {
            (Some(file), Some(url)) => write!(f, "{file} from {url}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for DownloadError {}

impl DownloadError {
    fn new(kind: FailureKind, problem: impl Into<String>) -> Self {
        DownloadError {
            kind,
            file: None,
            url: None,
            problem: problem.into(),
        }
    }
}

/// Progress of [`download`], for progress bars and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The file is already in the folder with the right size and checksum.
    Present {
        /// The file's name.
        name: &'a str,
    },
    /// The file is in the folder but damaged; it is downloaded again.
    Damaged {
        /// The file's name.
        name: &'a str,
        /// What is wrong with it.
        problem: &'a str,
    },
    /// The mirror has answered; the file's bytes are coming.
    Started {
        /// The file's name.
        name: &'a str,
        /// Where from.
        url: &'a str,
        /// Its size in bytes.
        size: u64,
    },
    /// `done` of the file's bytes have arrived.
    Progress {
        /// The file's name.
        name: &'a str,
        /// Bytes received so far.
        done: u64,
    },
    /// The file is complete, verified and in place.
    Saved {
        /// The file's name.
        name: &'a str,
    },
}

/// A file in the folder after [`download`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Where it is.
    pub path: PathBuf,
    /// False when it was already there, verified, and left alone.
    pub downloaded: bool,
}

/// The folder `optimist data mnist` downloads into when not told otherwise:
/// `$XDG_CACHE_HOME/optimist/mnist` when `XDG_CACHE_HOME` is set to an absolute path,
/// else the platform's per-user cache folder — `~/.cache/optimist/mnist` on Linux and
/// other Unix systems, `~/Library/Caches/optimist/mnist` on macOS,
/// `%LOCALAPPDATA%\optimist\mnist` on Windows. `None` when the home folder is unknown.
pub fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let cache = absolute("XDG_CACHE_HOME").or_else(|| {
        if cfg!(windows) {
            absolute("LOCALAPPDATA")
        } else if cfg!(target_os = "macos") {
            absolute("HOME").map(|h| h.join("Library").join("Caches"))
        } else {
            absolute("HOME").map(|h| h.join(".cache"))
        }
    })?;
    Some(cache.join("optimist").join("mnist"))
}

/// A new file for `name` to arrive in: hidden, in the same folder, named
/// `.NAME.PID.RANDOM.part` after this process, created exclusively (never through a
/// planted link) and removed by [`crate::output::remove_temporaries`] on an
/// interruption.
pub fn temporary_file(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    crate::output::temporary_in(dir, &format!("{name}.{}", std::process::id()), ".part")
}

/// Removes what killed downloads of `name` left in `dir`: `.NAME.PID….part` files of
/// processes no longer running (where the system tells, as Linux's `/proc` does), or
/// older than any download can last. Returns the files removed.
pub fn remove_stale_parts(dir: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!(".{name}.");
    let procs = Path::new("/proc/self").exists();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".part"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if pid == Some(std::process::id()) {
            continue;
        }
        let dead = procs && pid.is_some_and(|p| !Path::new("/proc").join(p.to_string()).exists());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > DEADLINE);
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && (dead || old) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Downloads each of `files` from `mirror` (an `http://` or `https://` address of the
/// folder holding them) into `dir`, created if missing, skipping those already there
/// with the right checksum; reports progress to `on_event`.
///
/// Stops at the first failure; files completed before it stay (each is whole and
/// verified), the failed one leaves nothing behind.
pub fn download(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Fetched>, DownloadError> {
    download_with(files, mirror, dir, &Settings::default(), on_event)
}

/// [`download`] with its deadline and redirect policy given.
pub fn download_with(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Fetched>, DownloadError> {
    let base = mirror_base(mirror)?;
    for file in files {
        check_listing(file)?;
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        DownloadError::new(
            FailureKind::Folder,
            format!("cannot create the folder {}: {e}", dir.display()),
        )
    })?;
    let agent = agent(&base, settings.deadline);
    let mut fetched = Vec::with_capacity(files.len());
    for file in files {
        let path = dir.join(file.name);
        match verify_existing(&path, file)? {
            Existing::Good => {
                on_event(Event::Present { name: file.name });
                fetched.push(Fetched {
                    path,
                    downloaded: false,
                });
                continue;
            }
            Existing::Damaged(problem) => on_event(Event::Damaged {
                name: file.name,
                problem: &problem,
            }),
            Existing::Missing => {}
        }
        remove_stale_parts(dir, file.name);
        let url = format!("{base}{}", file.name);
        fetch(&agent, &url, file, dir, &path, settings, on_event).map_err(|mut e| {
            e.file = Some(file.name.to_string());
            e.url.get_or_insert_with(|| redact(&url));
            e
        })?;
        on_event(Event::Saved { name: file.name });
        fetched.push(Fetched {
            path,
            downloaded: true,
        });
    }
    Ok(fetched)
}

/// The mirror's address, checked, ending in `/` so that file names can follow it.
fn mirror_base(given: &str) -> Result<String, DownloadError> {
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
fn origin(url: &str) -> String {
    let url = redact(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("", &url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!("{}://{}", scheme, &rest[..end]).to_ascii_lowercase()
}

/// Where a redirect's `Location` leads from `current`.
fn resolve(current: &str, location: &str) -> String {
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
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// A file entry must be a plain name (it is joined to the folder and the mirror) with
/// a 32-digit hexadecimal MD5.
fn check_listing(file: &RemoteFile<'_>) -> Result<(), DownloadError> {
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
fn agent(base: &str, deadline: Duration) -> ureq::Agent {
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
enum Existing {
    Missing,
    Good,
    Damaged(String),
}

fn verify_existing(path: &Path, file: &RemoteFile<'_>) -> Result<Existing, DownloadError> {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Requests one file and puts it in place; the caller adds the file and address to
/// any error.
fn fetch(
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
fn scrub(text: &str, url: &str) -> String {
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
fn receive(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_addresses_are_checked_and_end_in_a_slash() {
        assert_eq!(
            mirror_base("http://127.0.0.1:8080/mnist").unwrap(),
            "http://127.0.0.1:8080/mnist/"
        );
        assert_eq!(mirror_base(MNIST_MIRROR).unwrap(), MNIST_MIRROR);
        for bad in [
            "ftp://x/",
            "example.com/mnist",
            "http:///mnist",
            "https://h/?a=1",
        ] {
            let e = mirror_base(bad).unwrap_err();
            assert_eq!(e.kind, FailureKind::Input, "{bad}");
            assert!(e.to_string().contains(bad.trim()), "{e}");
        }
    }

    #[test]
    fn hosts_are_found_in_addresses() {
        assert_eq!(host("http://127.0.0.1:80/a"), "127.0.0.1");
        assert_eq!(host("https://user@Example.com/a"), "Example.com");
        assert_eq!(host("http://[::1]:8/"), "::1");
        assert_eq!(host("http://"), "");
    }

    #[test]
    fn file_names_must_be_plain_and_checksums_md5() {
        let good = MNIST_FILES[0];
        assert!(check_listing(&good).is_ok());
        for name in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            let e = check_listing(&RemoteFile { name, ..good }).unwrap_err();
            assert_eq!(e.kind, FailureKind::Input, "{name:?}");
        }
        let e = check_listing(&RemoteFile { md5: "abc", ..good }).unwrap_err();
        assert!(e.to_string().contains("not an MD5"), "{e}");
    }

    #[test]
    fn the_file_list_names_what_the_reader_looks_for() {
        let names: Vec<String> = [
            crate::mnist::TEST_IMAGES,
            crate::mnist::TEST_LABELS,
            crate::mnist::TRAIN_IMAGES,
            crate::mnist::TRAIN_LABELS,
        ]
        .iter()
        .map(|n| format!("{n}.gz"))
        .collect();
        assert_eq!(MNIST_FILES.map(|f| f.name.to_string()).to_vec(), names);
        for f in MNIST_FILES {
            assert!(check_listing(&f).is_ok());
        }
    }
}
