//! Downloading against a mirror run here on 127.0.0.1: the real test set (from
//! the repository's `data/mnist`), and mirrors that break off, send the wrong bytes or the
//! wrong size, or have no such file. Every failure says what failed and leaves the
//! folder as it was; a file already there and verified is not requested again.

use crate::mirror;
use crate::mnist_data;

use md5::{Digest, Md5};
use mirror::{Mirror, Reply};
use mnist_data::mnist_dir;
use optimist_lab::data::download::{self, Event, FailureKind, RemoteFile, MNIST_FILES};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// A fresh, empty folder for one test (its download folder is `dir/mnist`, not yet
/// created).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "optimist-lab-{}-download-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Names in a folder, sorted (temporary files included: they start with '.').
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes that are not all alike, so that a damaged copy differs.
fn made_up(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = optimist_lab::rng::SplitMix64::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Downloads `files` and records the events as text.
fn fetch(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
) -> (
    Result<Vec<download::Fetched>, download::DownloadError>,
    Vec<String>,
) {
    let mut events = Vec::new();
    let result = download::download(files, mirror, dir, &mut |e| {
        events.push(match e {
            Event::Present { name } => format!("present {name}"),
            Event::Damaged { name, problem } => format!("damaged {name}: {problem}"),
            Event::Started { name, size, .. } => format!("started {name} {size}"),
            Event::Progress { name, done } => format!("progress {name} {done}"),
            Event::Saved { name } => format!("saved {name}"),
        })
    });
    (result, events)
}

#[test]
fn downloads_the_real_test_set_checks_it_and_does_not_fetch_it_twice() {
    let mnist = mnist_dir();
    let test_files = &MNIST_FILES[..2];
    let originals: Vec<Vec<u8>> = test_files
        .iter()
        .map(|f| std::fs::read(mnist.join(f.name)).unwrap())
        .collect();
    // The published checksums are those of the repository's files.
    for (f, bytes) in test_files.iter().zip(&originals) {
        assert_eq!(md5_hex(bytes), f.md5, "{}", f.name);
        assert_eq!(bytes.len() as u64, f.size, "{}", f.name);
    }
    let mirror = Mirror::start(
        test_files
            .iter()
            .zip(&originals)
            .map(|(f, b)| (f.name, Reply::File(b.clone())))
            .collect(),
    );
    let dir = scratch("real").join("mnist");
    let (result, events) = fetch(test_files, &mirror.url, &dir);
    let fetched = result.unwrap();
    assert!(fetched.iter().all(|f| f.downloaded));
    for (f, bytes) in test_files.iter().zip(&originals) {
        assert_eq!(&std::fs::read(dir.join(f.name)).unwrap(), bytes);
        let last = events
            .iter()
            .rfind(|e| e.starts_with(&format!("progress {} ", f.name)))
            .unwrap();
        assert_eq!(*last, format!("progress {} {}", f.name, f.size));
    }
    assert_eq!(events[0], "started t10k-images-idx3-ubyte.gz 1648877");
    assert_eq!(events.last().unwrap(), "saved t10k-labels-idx1-ubyte.gz");
    assert_eq!(
        listing(&dir),
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    );
    // What arrived is the test set the reader knows.
    let set = optimist_lab::data::mnist::load(&dir).unwrap();
    assert_eq!(set.test.len(), 10_000);

    // Already there and verified: nothing is asked of the mirror.
    let asked = mirror.requests().len();
    assert_eq!(asked, 2);
    let (result, events) = fetch(test_files, &mirror.url, &dir);
    assert!(result.unwrap().iter().all(|f| !f.downloaded));
    assert_eq!(
        events,
        [
            "present t10k-images-idx3-ubyte.gz",
            "present t10k-labels-idx1-ubyte.gz"
        ]
    );
    assert_eq!(mirror.requests().len(), asked);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// A made-up file and its listing.
struct Made {
    name: &'static str,
    bytes: Vec<u8>,
    md5: String,
}

impl Made {
    fn new(name: &'static str, len: usize, seed: u64) -> Made {
        let bytes = made_up(len, seed);
        let md5 = md5_hex(&bytes);
        Made { name, bytes, md5 }
    }

    fn listing(&self) -> RemoteFile<'_> {
        RemoteFile {
            name: self.name,
            size: self.bytes.len() as u64,
            md5: &self.md5,
        }
    }
}

/// Runs a download of `file` from a mirror answering `reply`; the download must fail
/// with `kind` and a message holding each of `words`, and leave no file behind.
fn fails_cleanly(test: &str, file: &Made, reply: Option<Reply>, kind: FailureKind, words: &[&str]) {
    let mirror = Mirror::start(reply.into_iter().map(|r| (file.name, r)).collect());
    let dir = scratch(test).join("mnist");
    let (result, _) = fetch(&[file.listing()], &mirror.url, &dir);
    let e = result.unwrap_err();
    let message = e.to_string();
    assert_eq!(e.kind, kind, "{test}: {message}");
    assert!(
        message.starts_with(&format!("{} from {}{}: ", file.name, mirror.url, file.name)),
        "{test}: {message}"
    );
    for w in words {
        assert!(message.contains(w), "{test}: {message} lacks {w:?}");
    }
    assert_eq!(listing(&dir), Vec::<String>::new(), "{test}");
    assert_eq!(
        mirror.requests(),
        [format!("/mnist/{}", file.name)],
        "{test}"
    );
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn a_connection_dropped_mid_file_leaves_nothing_behind() {
    let file = Made::new("train-images-idx3-ubyte.gz", 300_000, 1);
    fails_cleanly(
        "cut",
        &file,
        Some(Reply::Cut(file.bytes.clone(), 100_000)),
        FailureKind::Network,
        &["of 300000 bytes"],
    );
}

#[test]
fn wrong_bytes_fail_the_checksum_and_leave_nothing_behind() {
    let file = Made::new("train-labels-idx1-ubyte.gz", 50_000, 2);
    let mut damaged = file.bytes.clone();
    damaged[25_000] ^= 0x40;
    let got = md5_hex(&damaged);
    fails_cleanly(
        "checksum",
        &file,
        Some(Reply::File(damaged)),
        FailureKind::Checksum,
        &[&format!("MD5 {got}, not the published {}", file.md5)],
    );
}

#[test]
fn a_file_of_the_wrong_size_is_refused_before_it_is_written() {
    let file = Made::new("t10k-labels-idx1-ubyte.gz", 4_542, 3);
    fails_cleanly(
        "size",
        &file,
        Some(Reply::File(file.bytes[..4_000].to_vec())),
        FailureKind::Size,
        &["offers 4000 bytes, but the file is 4542 bytes"],
    );
}

#[test]
fn a_missing_file_is_a_404_and_leaves_nothing_behind() {
    let file = Made::new("t10k-images-idx3-ubyte.gz", 1_000, 4);
    fails_cleanly(
        "404",
        &file,
        None,
        FailureKind::Status(404),
        &["127.0.0.1 answered 404 Not Found"],
    );
}

#[test]
fn an_unreachable_mirror_says_it_cannot_download() {
    // A port that was just free on 127.0.0.1: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = Made::new("a.gz", 10, 5);
    let dir = scratch("refused").join("mnist");
    let url = format!("http://127.0.0.1:{port}/");
    let (result, events) = fetch(&[file.listing()], &url, &dir);
    let e = result.unwrap_err();
    assert_eq!(e.kind, FailureKind::Network, "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "a.gz from {url}a.gz: cannot download from 127.0.0.1: "
        )),
        "{e}"
    );
    assert!(events.is_empty());
    assert_eq!(listing(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn a_damaged_file_is_replaced_and_a_good_one_kept() {
    let good = Made::new("good.gz", 20_000, 6);
    let bad = Made::new("bad.gz", 30_000, 7);
    let mirror = Mirror::start(vec![
        (good.name, Reply::File(good.bytes.clone())),
        (bad.name, Reply::File(bad.bytes.clone())),
    ]);
    let dir = scratch("replace").join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(good.name), &good.bytes).unwrap();
    let mut damaged = bad.bytes.clone();
    damaged[0] ^= 1;
    std::fs::write(dir.join(bad.name), &damaged).unwrap();
    let (result, events) = fetch(&[good.listing(), bad.listing()], &mirror.url, &dir);
    let fetched = result.unwrap();
    assert_eq!(
        fetched.iter().map(|f| f.downloaded).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(events[0], "present good.gz");
    assert!(
        events[1].starts_with(&format!(
            "damaged bad.gz: its MD5 is {}, not {}",
            md5_hex(&damaged),
            bad.md5
        )),
        "{events:?}"
    );
    assert_eq!(mirror.requests(), ["/mnist/bad.gz"]);
    assert_eq!(std::fs::read(dir.join(bad.name)).unwrap(), bad.bytes);
    assert_eq!(listing(&dir), ["bad.gz", "good.gz"]);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn a_failure_keeps_the_files_verified_before_it() {
    let first = Made::new("first.gz", 5_000, 8);
    let second = Made::new("second.gz", 5_000, 9);
    let mirror = Mirror::start(vec![(first.name, Reply::File(first.bytes.clone()))]);
    let dir = scratch("partial").join("mnist");
    let (result, _) = fetch(&[first.listing(), second.listing()], &mirror.url, &dir);
    let e = result.unwrap_err();
    assert_eq!(e.kind, FailureKind::Status(404));
    assert_eq!(e.file.as_deref(), Some("second.gz"));
    assert_eq!(listing(&dir), ["first.gz"]);
    assert_eq!(std::fs::read(dir.join("first.gz")).unwrap(), first.bytes);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn bad_mirrors_and_listings_fail_before_anything_is_created() {
    let file = Made::new("x.gz", 10, 10);
    let dir = scratch("input").join("mnist");
    for mirror in ["http://127.0.0.1:99999/", "http://[::1/", "http://a b/"] {
        let (result, _) = fetch(&[file.listing()], mirror, &dir);
        let e = result.unwrap_err();
        assert_eq!(e.kind, FailureKind::Input, "{mirror}: {e}");
    }
    for mirror in ["ftp://127.0.0.1/", "127.0.0.1/mnist"] {
        let (result, _) = fetch(&[file.listing()], mirror, &dir);
        let e = result.unwrap_err();
        assert_eq!(e.kind, FailureKind::Input);
        assert!(
            e.to_string().contains("not an http:// or https:// address"),
            "{e}"
        );
    }
    let bad_name = RemoteFile {
        name: "../x.gz",
        ..file.listing()
    };
    let (result, _) = fetch(&[bad_name], "http://127.0.0.1:9/", &dir);
    assert_eq!(result.unwrap_err().kind, FailureKind::Input);
    assert!(!dir.exists());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// Downloads `files` with `settings` and returns the error.
fn fetch_with(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
    settings: &download::Settings,
) -> (
    Result<Vec<download::Fetched>, download::DownloadError>,
    Vec<String>,
) {
    let mut urls = Vec::new();
    let result = download::download_with(files, mirror, dir, settings, &mut |e| {
        if let Event::Started { url, .. } = e {
            urls.push(url.to_string());
        }
    });
    (result, urls)
}

#[test]
fn a_slow_trickle_stops_at_the_deadline() {
    let file = Made::new("slow.gz", 1_000, 11);
    let mirror = Mirror::start(vec![(
        "slow.gz",
        Reply::Trickle(file.bytes.clone(), std::time::Duration::from_millis(400)),
    )]);
    let dir = scratch("deadline").join("mnist");
    let settings = download::Settings {
        deadline: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let (result, _) = fetch_with(&[file.listing()], &mirror.url, &dir, &settings);
    let elapsed = start.elapsed();
    let e = result.unwrap_err();
    assert_eq!(e.kind, FailureKind::Network, "{e}");
    assert!(e.to_string().contains("within the 2 s allowed"), "{e}");
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(listing(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn redirects_stay_on_the_mirror_unless_allowed_and_failures_blame_the_right_host() {
    let file = Made::new("moved.gz", 2_000, 12);
    let elsewhere = Mirror::start(vec![("moved.gz", Reply::File(file.bytes.clone()))]);
    // The same server under another name is another host.
    let other = elsewhere.url.replace("127.0.0.1", "localhost") + "moved.gz";
    let mirror = Mirror::start(vec![
        ("moved.gz", Reply::Redirect(other.clone())),
        ("here.gz", Reply::Redirect("/mnist/gone.gz".into())),
        ("file.gz", Reply::Redirect("file:///etc/passwd".into())),
    ]);
    let dir = scratch("redirect").join("mnist");
    let (result, _) = fetch(&[file.listing()], &mirror.url, &dir);
    let e = result.unwrap_err();
    assert_eq!(e.kind, FailureKind::Redirect, "{e}");
    assert!(
        e.to_string().contains(&format!("redirects to '{other}'")),
        "{e}"
    );
    assert!(elsewhere.requests().is_empty());
    assert_eq!(listing(&dir), Vec::<String>::new());

    let allowed = download::Settings {
        other_hosts: true,
        ..Default::default()
    };
    let (result, urls) = fetch_with(&[file.listing()], &mirror.url, &dir, &allowed);
    result.unwrap();
    assert_eq!(urls, [other]);
    assert_eq!(std::fs::read(dir.join("moved.gz")).unwrap(), file.bytes);

    // A redirect on the same host is followed; its 404 names the address that failed.
    let here = RemoteFile {
        name: "here.gz",
        ..file.listing()
    };
    let e = fetch(&[here], &mirror.url, &dir).0.unwrap_err();
    assert_eq!(e.kind, FailureKind::Status(404), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "here.gz from {}gone.gz: 127.0.0.1 answered 404 Not Found (redirected from {}here.gz)",
            mirror.url, mirror.url
        )),
        "{e}"
    );
    let scheme = RemoteFile {
        name: "file.gz",
        ..file.listing()
    };
    let e = fetch_with(&[scheme], &mirror.url, &dir, &allowed)
        .0
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Redirect, "{e}");
    assert!(
        e.to_string().contains("not an http:// or https:// address"),
        "{e}"
    );
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn credentials_in_the_mirror_address_are_never_echoed() {
    let file = Made::new("secret.gz", 100, 13);
    let mirror = Mirror::start(vec![("secret.gz", Reply::Cut(file.bytes.clone(), 10))]);
    let with_user = mirror.url.replace("http://", "http://user:hunter2@");
    let dir = scratch("credentials").join("mnist");
    let (result, urls) = fetch_with(&[file.listing()], &with_user, &dir, &Default::default());
    let e = result.unwrap_err();
    assert!(
        !format!("{e} {e:?} {urls:?}").contains("hunter2"),
        "{e:?} {urls:?}"
    );
    assert_eq!(urls, [format!("{}secret.gz", mirror.url)]);
    for bad in ["ftp://user:hunter2@127.0.0.1/", "http://user:hunter2@a b/"] {
        let e = fetch(&[file.listing()], bad, &dir).0.unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn parts_left_by_killed_downloads_are_removed() {
    let file = Made::new("left.gz", 500, 14);
    let mirror = Mirror::start(vec![("left.gz", Reply::File(file.bytes.clone()))]);
    let dir = scratch("stale").join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    // No process has this id (Linux's largest is 4194304), so its part is debris.
    std::fs::write(dir.join(".left.gz.999999999.part"), b"half").unwrap();
    std::fs::write(dir.join(".left.gz.999999999.x7Yq.part"), b"half").unwrap();
    // A part of a running process (this one) is left alone.
    let live = format!(".left.gz.{}.abc.part", std::process::id());
    std::fs::write(dir.join(&live), b"busy").unwrap();
    fetch(&[file.listing()], &mirror.url, &dir).0.unwrap();
    assert_eq!(listing(&dir), [live, "left.gz".to_string()]);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}
