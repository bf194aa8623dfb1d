//! `optimist tune` and `compare --tune` end to end: the table, every trial in the CSV,
//! the sensitivity figure, and a race that runs exactly the tuned trials.

use crate::common;

use common::{fields, ok, optimist, scratch};

use std::path::Path;

/// One row of tuning.csv.
#[derive(Debug)]
struct Trial {
    optimizer: String,
    lr: f64,
    score: f64,
    x: f64,
    y: f64,
    loss: f64,
    distance: Option<f64>,
    diverged: bool,
    outside: bool,
    best: bool,
}

fn read_tuning(path: &Path) -> Vec<Trial> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "optimizer,lr,score,final_x,final_y,final_loss,final_distance,diverged_at,outside,best"
        )
    );
    lines
        .map(|l| {
            let f = fields(l);
            assert_eq!(f.len(), 10, "{l}");
            Trial {
                optimizer: f[0].clone(),
                lr: f[1].parse().unwrap(),
                score: f[2].parse().unwrap(),
                x: f[3].parse().unwrap(),
                y: f[4].parse().unwrap(),
                loss: f[5].parse().unwrap(),
                distance: (!f[6].is_empty()).then(|| f[6].parse().unwrap()),
                diverged: !f[7].is_empty(),
                outside: f[8] == "true",
                best: f[9] == "true",
            }
        })
        .collect()
}

#[test]
fn tune_prints_the_best_rates_and_writes_every_trial() {
    let dir = scratch("rosenbrock");
    let out = optimist(&[
        "tune",
        "--function",
        "rosenbrock",
        "--steps",
        "200",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let trials = read_tuning(&dir.join("tuning.csv"));
    assert_eq!(trials.len(), 4 * 50);
    let png = std::fs::read(dir.join("sensitivity.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("tuned 50 learning rates per optimizer (30 log-spaced from 0.000001 to 10, 20 around the best), 200 steps each from (-2, 2), scored by the final distance to the nearest minimum"),
        "{table}"
    );
    assert_eq!(lines.len(), 2 + 4, "{table}");
    for (name, line) in ["sgd", "momentum", "adagrad", "adam"]
        .iter()
        .zip(&lines[2..])
    {
        let mine: Vec<&Trial> = trials.iter().filter(|t| t.optimizer == *name).collect();
        assert_eq!(mine.len(), 50);
        assert!(mine.windows(2).all(|p| p[0].lr < p[1].lr));
        let best: Vec<&&Trial> = mine.iter().filter(|t| t.best).collect();
        assert_eq!(best.len(), 1, "{name}");
        let best = best[0];
        // The best has the lowest median score of itself and its neighbouring rates (one
        // lucky rate among bad ones does not win); a score is the distance to (1, 1), or
        // +∞ for a run that diverged or ended outside the window.
        let median_near = |i: usize| {
            let mut near: Vec<f64> = mine[i.saturating_sub(1)..(i + 2).min(mine.len())]
                .iter()
                .map(|t| t.score)
                .collect();
            near.sort_by(f64::total_cmp);
            near[near.len() / 2]
        };
        let at = mine.iter().position(|t| t.best).unwrap();
        for (i, t) in mine.iter().enumerate() {
            assert!(
                median_near(i) >= median_near(at),
                "{name}: {} vs {}",
                t.lr,
                best.lr
            );
            if t.diverged || t.outside {
                assert_eq!(t.score, f64::INFINITY);
            } else {
                let d = (t.x - 1.0).hypot(t.y - 1.0);
                assert_eq!(t.distance, Some(d));
                assert_eq!(t.score, d);
                let f = (1.0 - t.x).powi(2) + 100.0 * (t.y - t.x * t.x).powi(2);
                assert!((t.loss - f).abs() <= 1e-12 * f.max(1.0));
            }
        }
        assert!(
            line.starts_with(name) && line.contains(&format!("lr={}", best.lr)),
            "{line}"
        );
        assert!(line.contains(&format!("{:.6e}", best.score)), "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `compare --tune`: the race runs the tuned rates, and each run ends exactly where its
/// best trial did.
#[test]
fn compare_tune_races_the_tuned_trials() {
    let dir = scratch("compare");
    let out = optimist(&[
        "compare",
        "--tune",
        "--function",
        "beale",
        "--trials",
        "20",
        "-o",
        "adam:beta1=0.8,beta2=0.99",
        "-o",
        "rmsprop",
        "--view",
        "loss",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let trials = read_tuning(&dir.join("tuning.csv"));
    assert_eq!(trials.len(), 2 * 20);
    assert_eq!(trials[0].optimizer, "adam:beta1=0.8,beta2=0.99");
    let csv = std::fs::read_to_string(dir.join("trajectories.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let stdout = String::from_utf8(out.stdout).unwrap();
    for name in ["adam", "rmsprop"] {
        let best = trials
            .iter()
            .find(|t| t.best && t.optimizer.starts_with(name))
            .unwrap();
        let last = rows.iter().rev().find(|r| r[0] == name).unwrap();
        assert_eq!(last[1], "100", "{name} ran the default 100 steps");
        assert_eq!(
            (
                last[2].parse::<f64>().unwrap(),
                last[3].parse::<f64>().unwrap()
            ),
            (best.x, best.y),
            "{name}"
        );
        assert!(stdout.contains(&format!("lr={}", best.lr)), "{stdout}");
    }
    // The race keeps the other hyperparameters given.
    assert!(stdout.contains("beta1=0.8, beta2=0.99"), "{stdout}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "loss.png",
            "run.json",
            "sensitivity.png",
            "trajectories.csv",
            "tuning.csv"
        ]
    );
    // No progress bar when stderr is not a terminal.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("runs,"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_minima_the_score_is_the_loss() {
    let dir = scratch("saddle");
    let out = optimist(&[
        "tune",
        "--function",
        "x^2 - y^2",
        "--window=-2,2,-2,2",
        "--start=1.5,0.001",
        "--trials",
        "12",
        "-o",
        "sgd",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("scored by the final loss"), "{table}");
    let trials = read_tuning(&dir.join("tuning.csv"));
    assert_eq!(trials.len(), 12);
    for t in &trials {
        assert_eq!(t.distance, None);
        if !(t.diverged || t.outside) {
            assert_eq!(t.score, t.loss);
            assert!(t.x.abs() <= 2.0 && t.y.abs() <= 2.0);
        }
    }
    assert!(
        trials.iter().any(|t| t.outside),
        "large rates escape the window"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_tuning_requests_are_errors_with_exit_code_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--function", "saddle", "--score", "distance"],
            "no known minimum",
        ),
        (
            &["--score", "best"],
            "unknown score 'best'; expected loss or distance",
        ),
        (&["--lr-range", "0,1"], "0 < MIN < MAX"),
        (&["--lr-range", "1"], "0 < MIN < MAX"),
        (&["--trials", "100000"], "from 2 to 10000"),
        (&["-o", "sgd:lr=abc"], "not a finite number"),
        (&["--function", "2 3"], "expected an operator"),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let dir = scratch(&format!("bad-{i}"));
        let out_dir = dir.join("out");
        let mut all = vec!["tune", "--out", out_dir.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = optimist(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
        assert!(!out_dir.exists(), "{args:?} created output");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
