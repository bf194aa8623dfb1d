//! `optimist compare` end to end: the reference trajectories through its CSV, its
//! files, and every kind of bad input.

use crate::common;

use common::{listing, ok, optimist, read_csv, scratch};

use serde_json::Value;
use std::path::PathBuf;

/// The folders of reference files: the repository's `testdata/reference`, and the one
/// `OPTIMIST_REFERENCE_DIR` names, if set.
fn reference_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reference")];
    if let Some(dir) = std::env::var_os("OPTIMIST_REFERENCE_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs
}

/// Every case on the article's problem, in every reference file, run through
/// `optimist compare --optimizer ...` and read back from its CSV: within 1e-12.
#[test]
fn article_cases_through_the_csv() {
    let mut checked = 0;
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in reference_dirs() {
        let mut more: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reference folder {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for case in json["cases"].as_array().unwrap() {
            if case["problem"] != "article" {
                continue;
            }
            let name = case["name"].as_str().unwrap();
            let mut spec = case["optimizer"].as_str().unwrap().to_string();
            let hp = case["hyperparameters"].as_object().unwrap();
            for (i, (k, v)) in hp.iter().enumerate() {
                spec.push_str(&format!(
                    "{}{k}={}",
                    if i == 0 { ':' } else { ',' },
                    v.as_f64().unwrap()
                ));
            }
            let initial = &case["initial"][0];
            let start = format!(
                "--start={},{}",
                initial[0].as_f64().unwrap(),
                initial[1].as_f64().unwrap()
            );
            let steps = case["steps"].as_u64().unwrap().to_string();
            let dir = scratch(&format!("ref-{name}"));
            let out = optimist(&[
                "compare",
                "--optimizer",
                &spec,
                &start,
                "--steps",
                &steps,
                "--out",
                dir.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let rows = read_csv(&dir.join("trajectories.csv"));
            let traj = case["trajectory"].as_array().unwrap();
            assert_eq!(
                rows.len(),
                traj.len() + 1,
                "{name}: start + one row per step"
            );
            for (k, want) in traj.iter().enumerate() {
                let (opt, step, x, y, loss) = &rows[k + 1];
                assert_eq!(
                    (opt.as_str(), *step),
                    (case["optimizer"].as_str().unwrap(), k + 1)
                );
                let (wx, wy) = (want[0][0].as_f64().unwrap(), want[0][1].as_f64().unwrap());
                assert!(
                    (x - wx).abs() <= 1e-12 && (y - wy).abs() <= 1e-12,
                    "{name} step {}: ({x}, {y}) vs ({wx}, {wy})",
                    k + 1
                );
                assert!(
                    (loss - (wx * wx / 20.0 + wy * wy)).abs() <= 1e-12,
                    "{name} step {}: loss {loss}",
                    k + 1
                );
            }
            checked += 1;
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    assert!(checked > 0, "no reference case on the article's problem");
}

#[test]
fn default_run_writes_the_figure_the_csv_and_the_table() {
    let dir = scratch("default");
    let out_dir = dir.join("nested/out");
    let out = optimist(&["compare", "--out", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(out_dir.join("compare.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let rows = read_csv(&out_dir.join("trajectories.csv"));
    assert_eq!(rows.len(), 4 * 31);
    let names: Vec<&str> = rows.iter().step_by(31).map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["sgd", "momentum", "adagrad", "adam"]);
    assert_eq!((rows[0].2, rows[0].3), (-7.0, 2.0));
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("optimizer") && lines[0].contains("final loss"));
    for (line, name) in lines[1..]
        .iter()
        .zip(["sgd", "momentum", "adagrad", "adam"])
    {
        assert!(
            line.starts_with(name) && line.ends_with("finished"),
            "{line}"
        );
    }
    // The table's final position is the CSV's last row of that optimizer.
    let adam_last = rows.last().unwrap();
    assert!(
        lines[4].contains(&format!("{:.6}", adam_last.2)),
        "{}",
        lines[4]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A second run into the same folder: `run.json` says which run the files are from, and
/// the first run's files the second does not rewrite are removed; files optimist did
/// not write stay.
#[test]
fn a_reused_folder_holds_one_run_and_its_manifest() {
    let dir = scratch("reuse");
    let out = dir.to_str().unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    ok(&optimist(&[
        "compare", "--view", "overlay", "--view", "gif", "--out", out,
    ]));
    assert_eq!(
        listing(&dir),
        [
            "compare.gif",
            "notes.txt",
            "overlay.png",
            "run.json",
            "trajectories.csv"
        ]
    );
    let again = [
        "compare",
        "-o",
        "sgd:lr=0.5",
        "--view",
        "loss",
        "--out",
        out,
    ];
    let second = optimist(&again);
    ok(&second);
    assert_eq!(
        listing(&dir),
        ["loss.png", "notes.txt", "run.json", "trajectories.csv"]
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("removed ")
            && stderr.contains("overlay.png (left by the previous run in this folder)"),
        "{stderr}"
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["files"],
        serde_json::json!(["loss.png", "trajectories.csv"])
    );
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    let command: Vec<&str> = manifest["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(command[1..], again);
    // tune shares the folder's manifest.
    ok(&optimist(&[
        "tune", "-o", "sgd", "--trials", "4", "--out", out,
    ]));
    assert_eq!(
        listing(&dir),
        ["notes.txt", "run.json", "sensitivity.png", "tuning.csv"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn svg_and_png_together() {
    let dir = scratch("formats");
    let out = optimist(&[
        "compare",
        "--format",
        "svg",
        "--format",
        "png",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.join("compare.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(dir.join("compare.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_diverging_optimizer_is_reported_not_crashed() {
    let dir = scratch("diverge");
    let out = optimist(&[
        "compare",
        "--optimizer",
        "sgd:lr=3",
        "--optimizer",
        "adam:lr=0.3",
        "--steps",
        "5000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.lines().nth(1).unwrap().contains("diverged at step"),
        "{table}"
    );
    assert!(
        table.lines().nth(2).unwrap().ends_with("finished"),
        "{table}"
    );
    let rows = read_csv(&dir.join("trajectories.csv"));
    assert!(rows
        .iter()
        .all(|r| r.2.is_finite() && r.3.is_finite() && r.4.is_finite()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each bad input: exit code 2, a message naming the problem, no panic, no file.
#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--optimizer", "adamm"],
            &["unknown optimizer 'adamm'", "sgd, momentum, nesterov"],
        ),
        (
            &["--optimizer", "sgd:momentum=0.9"],
            &["sgd has no hyperparameter 'momentum'", "lr"],
        ),
        (
            &["--optimizer", "adam:lr=abc"],
            &["adam: lr = 'abc' is not a finite number"],
        ),
        (&["--optimizer", "adam:lr=inf"], &["not a finite number"]),
        (
            &["--optimizer", "adam:lr=-1"],
            &["lr = -1 is out of range", "lr > 0"],
        ),
        (
            &["--optimizer", "momentum:momentum=1"],
            &["0 <= momentum < 1"],
        ),
        (
            &["--optimizer", "rmsprop:decay_rate=1.2"],
            &["0 <= decay_rate < 1"],
        ),
        (&["--optimizer", "adam:beta2=-0.1"], &["0 <= beta2 < 1"]),
        (&["--optimizer", "adam:lr"], &["is not KEY=VALUE"]),
        (&["--start", "1"], &["not two finite numbers"]),
        (&["--start=-7,abc"], &["not two finite numbers"]),
        (&["--start=nan,2"], &["not two finite numbers"]),
        (&["--start=1,2,3"], &["not two finite numbers"]),
        (&["--steps", "0"], &["from 1 to 10000000"]),
        (&["--steps", "10000001"], &["from 1 to 10000000"]),
        (&["--steps", "-3"], &["from 1 to 10000000"]),
        (&["--format", "jpg"], &["jpg", "png", "svg"]),
        (&["--convention", "keras"], &["unknown convention 'keras'"]),
        (&["--bogus"], &["--bogus"]),
        (
            &["--schedule", "cosine:T_max=30"],
            &["unknown schedule 'cosine'", "cosineannealinglr"],
        ),
        (
            &["--clip", "clip_grad_norm:max_norm=0"],
            &["max_norm = 0 is out of range"],
        ),
        (
            &["--schedule", "onecyclelr:max_lr=1,total_steps=30"],
            &["sgd(lr=0.95) has neither", "set cycle_momentum=false"],
        ),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let dir = scratch(&format!("bad-{i}"));
        let out_dir = dir.join("out");
        let mut all = vec!["compare", "--out", out_dir.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = optimist(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        for e in *expected {
            assert!(stderr.contains(e), "{args:?}: expected '{e}' in: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out_dir.exists(), "{args:?} created output");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_is_exit_code_1() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    for out_dir in [file.clone(), file.join("below")] {
        let out = optimist(&["compare", "--out", out_dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A failure at run time, not bad usage (ripgrep's convention).
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("--out") && stderr.contains(out_dir.to_str().unwrap()),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no stray files: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_shows_every_optimizer_with_formula_and_paper() {
    let out = optimist(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"] {
        assert!(
            text.contains(&format!("{name} (article)")),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("Kingma & Ba"));
    assert!(text.contains("0 <= beta1 < 1"));
}

/// The default race frames its paths (ticks at −6 and −2, the y axis within ±2.5); the
/// article's window stays one option away, and the CSV is the same either way.
#[test]
fn the_default_race_frames_its_paths_and_keeps_the_article_window_as_an_option() {
    let run = |name: &str, extra: &[&str]| {
        let dir = scratch(name);
        let mut args = vec!["compare", "--format", "svg", "--out", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        ok(&optimist(&args));
        let svg = std::fs::read_to_string(dir.join("compare.svg")).unwrap();
        let csv = std::fs::read_to_string(dir.join("trajectories.csv")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let labels: Vec<String> = svg.lines().map(|l| l.trim().to_string()).collect();
        (labels, csv)
    };
    let (framed, framed_csv) = run("framed", &[]);
    let (article, article_csv) = run("article-window", &["--window=-10,10,-10,10"]);
    assert_eq!(framed_csv, article_csv);
    let has = |labels: &[String], t: &str| labels.iter().any(|l| l == t);
    for tick in ["\u{2212}6", "\u{2212}2", "2"] {
        assert!(has(&framed, tick), "framed: no tick {tick}");
        assert!(!has(&article, tick), "article's window: tick {tick}");
    }
    for tick in ["\u{2212}10", "10", "\u{2212}5"] {
        assert!(has(&article, tick), "article's window: no tick {tick}");
        assert!(!has(&framed, tick), "framed: tick {tick}");
    }
}
