//! The terminal and the output folder failing or vanishing: a closed pipe ends quietly,
//! a full disk is exit 1, an interruption or a failure partway leaves the folder with
//! one whole run and no debris.

use crate::common;

use common::{listing, optimist, scratch};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs optimist with its standard output a pipe whose reader is already gone.
#[allow(clippy::incompatible_msrv)]
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_on_stdout_is_exit_1_with_a_message() {
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .arg("list")
        .stdout(full)
        .output()
        .unwrap();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot write to standard output: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let o = with_closed_stdout(&["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
}

#[test]
fn train_writes_its_files_when_its_reader_goes_away() {
    let out = scratch("streams-train");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let o = with_closed_stdout(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--iterations",
        "120",
        "--batch-size",
        "8",
        "--hidden",
        "8",
        "--seed",
        "1",
        "-o",
        "sgd:lr=0.1",
    ]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        listing(&out),
        [
            "mnist-loss.csv",
            "mnist-loss.png",
            "mnist-loss.svg",
            "mnist-summary.csv",
            "run.json"
        ]
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_output_that_cannot_be_written_is_exit_1_and_replaces_nothing() {
    let root = scratch("streams-out");
    let file = root.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let o = optimist(&["compare", "--out", file.join("out").to_str().unwrap()]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot create the output folder"),
        "{stderr}"
    );

    // A first run, then a second whose last file cannot be written: the folder keeps
    // the first run whole, and no temporary file.
    let out = root.join("out");
    let run = |lr: &str| {
        optimist(&[
            "compare",
            "--out",
            out.to_str().unwrap(),
            "-o",
            &format!("sgd:lr={lr}"),
            "--steps",
            "5",
        ])
    };
    assert!(run("0.1").status.success());
    let first = std::fs::read(out.join("compare.png")).unwrap();
    std::fs::remove_file(out.join("trajectories.csv")).unwrap();
    std::fs::create_dir(out.join("trajectories.csv")).unwrap();
    let o = run("0.2");
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("trajectories.csv: a folder of that name is in the way"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("compare.png")).unwrap(), first);
    assert_eq!(
        listing(&out),
        ["compare.png", "run.json", "trajectories.csv"]
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// SIGTERM, SIGINT or SIGHUP while compare writes its CSV leaves no temporary file.
#[cfg(unix)]
#[test]
fn an_interruption_while_writing_leaves_no_temporary_file() {
    use std::time::{Duration, Instant};
    for signal in ["TERM", "INT", "HUP"] {
        let out = scratch(&format!("streams-signal-{signal}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_optimist"))
            .args([
                "compare",
                "--out",
                out.to_str().unwrap(),
                "-o",
                "sgd:lr=0.01",
                "--steps",
                "3000000",
                "--view",
                "loss",
                "--format",
                "svg",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for a temporary file, then interrupt.
        let start = Instant::now();
        let mut seen = false;
        while child.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(300) {
            if listing(&out).iter().any(|n| n.ends_with(".tmp")) {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(seen, "{signal}: no temporary file appeared");
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{signal}: {}", text(&o.stderr));
        let left: Vec<String> = listing(&out)
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{signal}: {left:?}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}
