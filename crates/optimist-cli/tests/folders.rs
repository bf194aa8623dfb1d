//! Output folders and what goes into them: two runs into one folder take turns (a
//! lock), labels are printable, CSV text cells cannot be taken for formulas, and a
//! long input is echoed once, cut.

use crate::common;

use common::{listing, ok, optimist, scratch};
use std::path::Path;
use std::process::{Command, Stdio};

fn compare(dir: &Path, view: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(["compare", "--view", view, "--format", "svg", "--out"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The names `run.json` in `dir` lists.
fn listed(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("run.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut names: Vec<String> = value["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Two `compare` runs at once into one folder once left B's overlay.svg beside A's
/// run.json, which did not list it (3 times in 20). They take turns now: after each
/// pair, run.json lists exactly the files present.
#[test]
fn concurrent_runs_into_one_folder_never_mix() {
    let dir = scratch("concurrent").join("cc");
    for round in 0..20 {
        let (first, second) = if round % 2 == 0 {
            ("overlay", "grid")
        } else {
            ("grid", "loss")
        };
        let a = compare(&dir, first);
        let b = compare(&dir, second);
        for child in [a, b] {
            ok(&child.wait_with_output().unwrap());
        }
        let present: Vec<String> = listing(&dir)
            .into_iter()
            .filter(|n| n != "run.json")
            .collect();
        assert_eq!(listed(&dir), present, "round {round}");
    }
}

/// A second run waits for the one holding the folder, says so, and goes on once it
/// lets go; the lock file is gone afterwards.
#[cfg(unix)]
#[test]
fn a_second_run_waits_for_the_folder_and_says_so() {
    let dir = scratch("lock-wait");
    let held = std::fs::File::create(dir.join(".optimist.lock")).unwrap();
    held.lock().unwrap();
    let mut child = compare(&dir, "overlay");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    assert!(!dir.join("run.json").exists());
    drop(held);
    let out = child.wait_with_output().unwrap();
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "waiting for another optimist run writing to {} to finish",
            dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        listing(&dir),
        ["overlay.svg", "run.json", "trajectories.csv"]
    );
}

/// Labels with control characters were printed raw to the terminal and written raw
/// into the CSV: refused, saying which character.
#[test]
fn labels_with_control_characters_are_refused() {
    let dir = scratch("labels-control");
    for (label, shown) in [
        ("a\u{1b}[31mb", "\\u{1b}"),
        ("bell\u{7}", "\\u{7}"),
        ("a\tb", "\\t"),
        ("a\nb", "\\n"),
    ] {
        let spec = format!("sgd:lr=0.1,label={label}");
        let out = optimist(&["compare", "-o", &spec, "--out", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("holds the control character {shown}"))
                && !stderr.contains(label),
            "{stderr}"
        );
    }
    assert!(listing(&dir).is_empty());
}

/// CSV text cells starting with `=`, `+`, `-` or `@` were written as they were, which
/// a spreadsheet runs as a formula: they get a `'` in front and quotes, numbers stay
/// as they are; and the html view names runs by their label, as the CSV does.
#[test]
fn csv_text_cells_cannot_be_taken_for_formulas() {
    let dir = scratch("labels-csv");
    ok(&optimist(&[
        "compare",
        "-o",
        "sgd:lr=0.95,label==HYPERLINK(1)",
        "-o",
        "momentum:lr=0.1,label=+1",
        "-o",
        "adagrad:lr=1.5,label=-2",
        "-o",
        "adam:lr=0.3,label=@SUM(1)",
        "-o",
        "sgd:lr=0.5,label=slow",
        "--view",
        "html",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let csv = std::fs::read_to_string(dir.join("trajectories.csv")).unwrap();
    for first in [
        "\"'=HYPERLINK(1)\",0,-7.0,2.0,",
        "\"'+1\",0,-7.0,2.0,",
        "\"'-2\",0,-7.0,2.0,",
        "\"'@SUM(1)\",0,-7.0,2.0,",
        "slow,0,-7.0,2.0,",
    ] {
        assert!(csv.contains(&format!("\n{first}")), "{first} in {csv}");
    }
    let html = std::fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(
        html.contains("\"label\":\"slow\"") && !html.contains("\"label\":\"sgd:lr=0.5\""),
        "the page names the run by its spec"
    );
}

/// A 60,000-character spec was echoed whole, twice, in its error: once now, cut.
#[test]
fn a_long_spec_is_echoed_once_and_cut() {
    let spec = format!("adam:{}", "x".repeat(60_000));
    let out = optimist(&["compare", "-o", &spec]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.len() < 600, "{} bytes: {stderr}", stderr.len());
    assert_eq!(stderr.matches(&"x".repeat(40)).count(), 1, "{stderr}");
    assert!(stderr.contains("(60005 characters in all)"), "{stderr}");
    assert!(stderr.contains("is not KEY=VALUE"), "{stderr}");
}
