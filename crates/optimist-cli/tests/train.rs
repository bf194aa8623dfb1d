//! `optimist train` end to end on a small MNIST-format set written here: the book's
//! log, the files, repeatability with --seed, and bad input.

use crate::common;

use common::{optimist, scratch};

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;
use std::process::Command;

fn gz(path: &Path, bytes: &[u8]) {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    std::fs::write(path, enc.finish().unwrap()).unwrap();
}

/// A test set only (as here, without MNIST's training files): 500 images of 6×6, ten
/// classes, each a bright row or column.
fn write_test_set(dir: &Path) {
    let n = 500u32;
    let mut images = [0x0000_0803u32, n, 6, 6]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect::<Vec<u8>>();
    let mut labels = [0x0000_0801u32, n]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect::<Vec<u8>>();
    for i in 0..n as usize {
        let class = i % 10;
        for p in 0..36 {
            let (r, c) = (p / 6, p % 6);
            let on = if class < 6 {
                r == class
            } else {
                c == class - 6
            };
            images.push(if on {
                200 + (i % 50) as u8
            } else {
                ((i * 7 + p) % 30) as u8
            });
        }
        labels.push(class as u8);
    }
    gz(&dir.join("t10k-images-idx3-ubyte.gz"), &images);
    gz(&dir.join("t10k-labels-idx1-ubyte.gz"), &labels);
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn trains_logs_and_writes_every_file_repeatably() {
    let dir = scratch("run");
    write_test_set(&dir);
    let data = dir.to_str().unwrap();
    let run = |out: &str| {
        optimist(&[
            "train",
            "--data",
            data,
            "--out",
            out,
            "--iterations",
            "150",
            "--batch-size",
            "32",
            "--hidden",
            "16,16",
            "--seed",
            "7",
        ])
    };
    let out_a = dir.join("a");
    let o = run(out_a.to_str().unwrap());
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: the MNIST training files"),
        "{stderr}"
    );
    assert!(
        stderr.contains("training on 400 of the 500 test images"),
        "{stderr}"
    );
    // The book's log at iterations 0 and 100, every optimizer on each.
    assert!(
        stdout.contains("=========== iteration: 0 ==========="),
        "{stdout}"
    );
    assert!(
        stdout.contains("=========== iteration: 100 ==========="),
        "{stdout}"
    );
    assert_eq!(stdout.matches("adam:lr=0.001: ").count(), 2, "{stdout}");
    assert!(stdout.contains("held-out accuracy"), "{stdout}");
    for name in [
        "mnist-loss.csv",
        "mnist-summary.csv",
        "mnist-loss.png",
        "mnist-loss.svg",
    ] {
        assert!(out_a.join(name).is_file(), "{name} missing");
        assert!(
            stderr.contains(&format!("wrote {}", out_a.join(name).display())),
            "{stderr}"
        );
    }
    let csv = std::fs::read_to_string(out_a.join("mnist-loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 151);
    // run.json names the command and every file written.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_a.join("run.json")).unwrap()).unwrap();
    let listed = manifest.to_string();
    assert!(
        listed.contains("mnist-summary.csv") && listed.contains("\"train\""),
        "{listed}"
    );

    // A folder a compare run wrote into: its files go, train's manifest replaces its own.
    let shared = dir.join("shared");
    let o = optimist(&["compare", "--out", shared.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(shared.join("trajectories.csv").is_file());
    let o = run(shared.to_str().unwrap());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut left: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "mnist-loss.csv",
            "mnist-loss.png",
            "mnist-loss.svg",
            "mnist-summary.csv",
            "run.json"
        ],
        "{}",
        text(&o.stderr)
    );

    // The same seed gives the same losses, bit for bit.
    let out_b = dir.join("b");
    let o = run(out_b.to_str().unwrap());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        csv,
        std::fs::read_to_string(out_b.join("mnist-loss.csv")).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_and_says_what_was_wrong() {
    let dir = scratch("bad");
    write_test_set(&dir);
    let data = dir.to_str().unwrap();
    let missing = dir.join("missing");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--iterations", "0"],
            "'0' is not a whole number from 1 to 10000000".into(),
        ),
        (
            vec!["--batch-size", "-3"],
            "'-3' is not a whole number from 1 to 65536".into(),
        ),
        (
            vec!["--hidden", "100,x"],
            "'x' is not a whole number from 1 to 10000".into(),
        ),
        (vec!["--seed", "abc"], "'abc' is not a whole number".into()),
        (
            vec!["--optimizer", "adamm"],
            "unknown optimizer 'adamm'".into(),
        ),
        (
            vec!["--optimizer", "adam:beta1=1"],
            "adam: beta1 = 1 is out of range".into(),
        ),
        (
            vec!["--data", missing.to_str().unwrap()],
            format!("{}: no such folder", missing.display()),
        ),
        (
            vec!["--schedule", "cosine:T_max=5"],
            "unknown schedule 'cosine'; known schedules: steplr".into(),
        ),
        (
            vec!["--schedule", "steplr:gamma=0.5"],
            "steplr: step_size is required".into(),
        ),
        (
            vec!["--clip", "clip_grad_norm"],
            "clip_grad_norm: max_norm is required".into(),
        ),
        (
            vec!["--group", "b*"],
            "parameter group 'b*': it sets no hyperparameter".into(),
        ),
        (
            vec!["--group", "b*:momentum=0.5"],
            "adam has no hyperparameter 'momentum'".into(),
        ),
        (
            vec!["--nonfinite", "ignore"],
            "'ignore' is not refuse, skip or trust".into(),
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["train", "--out", data, "--optimizer", "adam"];
        for (key, default) in [("--data", data), ("--iterations", "5")] {
            if !args.contains(&key) {
                all.extend([key, default]);
            }
        }
        all.extend(&args);
        let o = optimist(&all);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
    }

    // A damaged label file names itself.
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), b"not gzip at all").unwrap();
    let o = optimist(&["train", "--data", data, "--out", data]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("t10k-labels-idx1-ubyte.gz: magic number"),
        "{stderr}"
    );
    assert!(!dir.join("mnist-loss.csv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_data_it_looks_in_data_mnist_then_in_the_download_cache() {
    let root = scratch("default-data");
    let (work, cache) = (root.join("work"), root.join("cache"));
    std::fs::create_dir_all(&work).unwrap();
    let downloaded = cache.join("optimist").join("mnist");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_optimist"))
            .current_dir(&work)
            .env("XDG_CACHE_HOME", &cache)
            .args(["train", "--iterations", "3", "--batch-size", "8"])
            .args(["--hidden", "8", "--seed", "1", "--out", "out"])
            .output()
            .expect("run optimist")
    };
    // Neither folder: both named, and how to get the files.
    let o = run();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no MNIST files: looked in data/mnist and {}, and found no such folder",
            downloaded.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("download them with `optimist data mnist`"),
        "{stderr}"
    );

    // Downloaded into the cache: found there.
    std::fs::create_dir_all(&downloaded).unwrap();
    write_test_set(&downloaded);
    let o = run();
    let stderr = text(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("are not in {};", downloaded.display())),
        "{stderr}"
    );

    // data/mnist, when there, comes first.
    let local = work.join("data").join("mnist");
    std::fs::create_dir_all(&local).unwrap();
    write_test_set(&local);
    let o = run();
    let stderr = text(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("are not in data/mnist;"), "{stderr}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn schedule_clip_groups_and_policy_apply_to_every_optimizer() {
    let dir = scratch("options");
    write_test_set(&dir);
    let data = dir.to_str().unwrap();
    let out = dir.join("out");
    let o = optimist(&[
        "train",
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
        "--iterations",
        "60",
        "--hidden",
        "16",
        "--seed",
        "3",
        "-o",
        "adam:lr=0.01",
        "-o",
        "sgd:lr=0.1",
        "--schedule",
        "cosineannealinglr:T_max=60,warmup_steps=5",
        "--clip",
        "clip_grad_norm:max_norm=2",
        "--group",
        "b*:lr=0.05",
        "--nonfinite",
        "skip",
    ]);
    let stderr = text(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let summary = std::fs::read_to_string(out.join("mnist-summary.csv")).unwrap();
    // Each label is the optimizer as configured (not its learning rate at the end of
    // the schedule), with what wraps it.
    for base in ["adam(lr=0.01,", "sgd(lr=0.1)"] {
        let line = summary
            .lines()
            .find(|l| l.contains(base))
            .unwrap_or_else(|| panic!("no {base} in {summary}"));
        for part in [
            "with groups b*: lr=0.05",
            "with clip_grad_norm:max_norm=2",
            "with cosineannealinglr:T_max=60",
        ] {
            assert!(line.contains(part), "{part} not in {line}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
