//! `optimist data mnist` against a mirror run here on 127.0.0.1 (never an outside
//! address): what it downloads and prints, what it says when a file is missing, damaged
//! or the download is interrupted, and that nothing half-written is ever left.

use crate::common;
use crate::mirror;
use crate::mnist_data;

use common::listing;
use mirror::{Mirror, Reply};
use mnist_data::mnist_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

fn optimist(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_optimist"));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run optimist")
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("data-{name}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn downloads_the_test_set_then_says_what_to_do_about_a_missing_file() {
    let mnist = mnist_dir();
    let images = std::fs::read(mnist.join(TEST_IMAGES)).unwrap();
    let labels = std::fs::read(mnist.join(TEST_LABELS)).unwrap();
    // The mirror lacks the training files.
    let mirror = Mirror::start(vec![
        (TEST_IMAGES, Reply::File(images.clone())),
        (TEST_LABELS, Reply::File(labels.clone())),
    ]);
    let dir = scratch("test-set").join("mnist");
    let run = || {
        optimist(
            &[
                "data",
                "mnist",
                "--dir",
                dir.to_str().unwrap(),
                "--mirror",
                &mirror.url,
            ],
            &[],
        )
    };
    let o = run();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    for line in [
        format!("downloading {}{TEST_IMAGES} (1648877 bytes)", mirror.url),
        format!("{TEST_IMAGES}: downloaded, checksum verified"),
        format!("{TEST_LABELS}: downloaded, checksum verified"),
        format!(
            "error: train-images-idx3-ubyte.gz from {}train-images-idx3-ubyte.gz: 127.0.0.1 answered 404 Not Found",
            mirror.url
        ),
        "use another with --mirror URL".to_string(),
        format!("into {}.", dir.display()),
        format!(
            "The test set is complete meanwhile: `optimist train --data {}`",
            dir.display()
        ),
    ] {
        assert!(stderr.contains(&line), "{line:?} not in:\n{stderr}");
    }
    assert!(o.stdout.is_empty());
    assert_eq!(listing(&dir), [TEST_IMAGES, TEST_LABELS]);
    assert_eq!(std::fs::read(dir.join(TEST_IMAGES)).unwrap(), images);
    assert_eq!(std::fs::read(dir.join(TEST_LABELS)).unwrap(), labels);

    // Again: the verified files are not asked for twice.
    let o = run();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{TEST_IMAGES}: already there, checksum verified")),
        "{stderr}"
    );
    let asked = mirror.requests();
    let train = "/mnist/train-images-idx3-ubyte.gz".to_string();
    assert_eq!(
        asked,
        [
            format!("/mnist/{TEST_IMAGES}"),
            format!("/mnist/{TEST_LABELS}"),
            train.clone(),
            train
        ]
    );
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn damaged_bytes_are_refused_and_leave_nothing_behind() {
    // The right size, the wrong bytes.
    let mirror = Mirror::start(vec![(TEST_IMAGES, Reply::File(vec![7u8; 1_648_877]))]);
    let dir = scratch("damaged").join("mnist");
    let o = optimist(
        &[
            "data",
            "mnist",
            "--dir",
            dir.to_str().unwrap(),
            "--mirror",
            &mirror.url,
        ],
        &[],
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not the published 9fb629c4189551a2d022fa330f9573f3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Nothing of it was kept. To retry, run `optimist data mnist` again"),
        "{stderr}"
    );
    assert!(!stderr.contains("The test set is complete"), "{stderr}");
    assert_eq!(listing(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn without_dir_it_downloads_into_the_user_cache() {
    let root = scratch("cache");
    let cache = root.join("cache");
    let mirror = Mirror::start(vec![]);
    let o = optimist(
        &["data", "mnist", "--mirror", &mirror.url],
        &[("XDG_CACHE_HOME", &cache)],
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let dir = cache.join("optimist").join("mnist");
    assert!(
        stderr.contains(&format!("into {}.", dir.display())),
        "{stderr}"
    );
    assert_eq!(listing(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_input_exits_2_and_says_what_was_wrong() {
    let root = scratch("bad");
    let file = root.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let dir = root.join("mnist");
    let under_file = file.join("mnist");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec![
                "--dir",
                dir.to_str().unwrap(),
                "--mirror",
                "ftp://127.0.0.1/mnist/",
            ],
            "the mirror 'ftp://127.0.0.1/mnist/' is not an http:// or https:// address".into(),
        ),
        (
            vec![
                "--dir",
                dir.to_str().unwrap(),
                "--mirror",
                "http://user:hunter2@127.0.0.1:99999/mnist/",
            ],
            "the mirror 'http://127.0.0.1:99999/mnist/' has a port outside 0 to 65535".into(),
        ),
        (
            vec!["--dir", dir.to_str().unwrap(), "--timeout", "0"],
            "'0' is not a whole number of seconds from 1 to 86400".into(),
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["data", "mnist"];
        all.extend(&args);
        let o = optimist(&all, &[]);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{args:?}: {stderr}");
    }
    assert!(!dir.exists());
    // A folder that cannot be created is a failure at run time: exit 1.
    let o = optimist(
        &[
            "data",
            "mnist",
            "--dir",
            under_file.to_str().unwrap(),
            "--mirror",
            "http://127.0.0.1:9/",
        ],
        &[],
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot create the folder {}",
            under_file.display()
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[cfg(unix)]
#[test]
fn an_interrupted_download_leaves_nothing_behind() {
    let bytes = vec![1u8; 1_648_877];
    let mirror = Mirror::start(vec![(TEST_IMAGES, Reply::Stall(bytes, 200_000))]);
    let dir = scratch("interrupt").join("mnist");
    let mut child = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args([
            "data",
            "mnist",
            "--dir",
            dir.to_str().unwrap(),
            "--mirror",
            &mirror.url,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the download is under way: its temporary file is there.
    let start = Instant::now();
    let temporary = format!(".{TEST_IMAGES}.{}.", child.id());
    let started = || {
        std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(&temporary) && name.ends_with(".part")
            })
        })
    };
    while !started() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {temporary} in {}: {:?}",
            dir.display(),
            std::fs::read_dir(&dir).map(|_| listing(&dir))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("optimist did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "interrupted: nothing half-written is left in {}",
            dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(listing(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}
