//! What a download fetches and reports: the MNIST listing, the settings, progress
//! events, and errors with their kind.

use std::path::PathBuf;
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
pub(super) const NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest one file's download may take by default, from the request to the last
/// byte (11.6 MB at 20 KB/s).
pub const DEADLINE: Duration = Duration::from_secs(600);

/// Redirects followed at most for one file.
pub(super) const MAX_REDIRECTS: usize = 5;

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
pub(super) const CHUNK: usize = 64 * 1024;

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
    pub(super) fn new(kind: FailureKind, problem: impl Into<String>) -> Self {
        DownloadError {
            kind,
            file: None,
            url: None,
            problem: problem.into(),
        }
    }
}

/// Progress of [`download`](super::download()), for progress bars and logs.
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

/// A file in the folder after [`download`](super::download()).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Where it is.
    pub path: PathBuf,
    /// False when it was already there, verified, and left alone.
    pub downloaded: bool,
}
