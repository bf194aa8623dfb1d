//! `optimist bench` end to end: shards merge into the single process's report byte for
//! byte, a resumed bench runs no finished job again, the Slurm scripts, and bad input.

use crate::common;

use crate::mnist_data;

use common::{fields, ok, optimist, scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small suite: two cheap problems, three optimizers, five rates, three seeds.
const SUITE: [&str; 14] = [
    "bench",
    "--problem",
    "rosenbrock:budget=100",
    "--problem",
    "nqm:dim=300,budget=100",
    "-o",
    "sgd",
    "-o",
    "adam",
    "-o",
    "momentum:momentum=0.8",
    "--seeds",
    "3",
    "--trials",
];

fn suite(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = SUITE.iter().map(|s| s.to_string()).collect();
    args.push("5".into());
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".into(), out.to_string_lossy().into_owned()]);
    args
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    optimist(&args)
}

/// The report's files (report.md, results.csv, the figures), name and bytes, sorted.
fn report_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn job_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("jobs"), &mut out);
    out.sort();
    out
}

/// The smallest suite: one problem, one optimizer, one seed, two trials.
const SMALL: [&str; 9] = [
    "bench",
    "--problem",
    "booth:budget=10",
    "-o",
    "sgd",
    "--seeds",
    "1",
    "--trials",
    "2",
];

#[test]
fn shards_merge_into_the_single_process_report_byte_for_byte() {
    let dir = scratch("bench-shards");
    let whole = dir.join("whole");
    let out = run(&suite(&whole, &[]));
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 2 problems × 3 optimizers × (5 rates + 2 more seeds).
    assert!(stderr.contains("42 jobs run, 0 already done"), "{stderr}");
    assert!(
        stderr.contains("tuning") && stderr.contains("seeds"),
        "{stderr}"
    );
    let expected = report_files(&whole);
    let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "curves-nqm_dim=300_budget=100.png",
            "curves-rosenbrock_budget=100.png",
            "profile.png",
            "report.md",
            "results.csv",
            "sensitivity-nqm_dim=300_budget=100.png",
            "sensitivity-rosenbrock_budget=100.png",
            "suite.json"
        ]
    );
    // The tidy CSV: every recorded point of the 42 runs.
    let csv = String::from_utf8(expected[4].1.clone()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("problem,optimizer,lr,seed,step,metric"));
    let rows: Vec<Vec<String>> = lines.map(fields).collect();
    assert!(rows.iter().all(|r| r.len() == 6));
    let runs: std::collections::BTreeSet<&[String]> = rows.iter().map(|r| &r[..4]).collect();
    assert_eq!(runs.len(), 42);
    assert!(rows
        .iter()
        .any(|r| r[0] == "nqm:dim=300,budget=100" && r[1] == "momentum:momentum=0.8"));
    let md = String::from_utf8(expected[3].1.clone()).unwrap();
    assert!(md.contains("## nqm:dim=300,budget=100"), "{md}");
    assert!(md.contains("| rank | optimizer | tuned lr |"), "{md}");
    assert!(!md.contains("Missing"), "{md}");

    // Three shards, the last through Slurm's variables, into another folder.
    let sharded = dir.join("sharded");
    for i in 0..2 {
        let shard = format!("{i}/3");
        ok(&run(&suite(&sharded, &["--shard", &shard])));
    }
    // Before the last shard: the report names what is missing and fails.
    let out = optimist(&["bench", "report", sharded.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jobs are missing"), "{stderr}");
    assert!(stderr.contains("seed 0"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(suite(&sharded, &[]))
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shard 2/3"), "{stderr}");
    assert!(stderr.contains("14 jobs run"), "{stderr}");
    ok(&optimist(&["bench", "report", sharded.to_str().unwrap()]));
    assert_eq!(report_files(&sharded), expected);
    assert_eq!(job_files(&sharded).len(), 42);
}

#[test]
fn a_resumed_bench_runs_only_the_missing_jobs() {
    let dir = scratch("bench-resume");
    ok(&run(&suite(&dir, &[])));
    let before = report_files(&dir);
    let jobs = job_files(&dir);
    let kept = std::fs::read(&jobs[0]).unwrap();
    // Two results lost (as by an interruption), one of them a tuning run.
    std::fs::remove_file(&jobs[0]).unwrap();
    std::fs::remove_file(&jobs[7]).unwrap();
    let out = run(&suite(&dir, &[]));
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 jobs run, 40 already done"), "{stderr}");
    // The same job gives the same curve again (its time may differ).
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&jobs[0]).unwrap()).unwrap();
    let first: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(again["curve"], first["curve"]);
    assert_eq!(report_files(&dir), before);
    // Nothing left to do.
    let out = run(&suite(&dir, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 jobs run, 42 already done"), "{stderr}");
    // A damaged result is not a finished job: said, naming the file, and run again.
    std::fs::write(&jobs[3], "{").unwrap();
    let out = run(&suite(&dir, &[]));
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&jobs[3].display().to_string())
            && stderr.contains("is not a valid result")
            && stderr.contains("not a job result")
            && stderr.contains("1 jobs run, 41 already done"),
        "{stderr}"
    );
    assert_eq!(report_files(&dir), before);
}

#[test]
fn the_slurm_scripts_run_shards_then_the_report() {
    let dir = scratch("bench-slurm");
    let out = run(&suite(&dir, &["--slurm", "--slurm-tasks", "4"]));
    ok(&out);
    let array = std::fs::read_to_string(dir.join("slurm/bench-array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-3\n"), "{array}");
    assert!(array.contains(" bench --problem rosenbrock:budget=100 --problem nqm:dim=300,budget=100 --optimizer sgd --optimizer adam --optimizer momentum:momentum=0.8 --seeds 3 --trials 5"), "{array}");
    assert!(
        array.contains(&format!("--out {}", dir.display())),
        "{array}"
    );
    let report = std::fs::read_to_string(dir.join("slurm/bench-report.sbatch")).unwrap();
    assert!(
        report.contains(&format!("bench report {}", dir.display())),
        "{report}"
    );
    let submit = std::fs::read_to_string(dir.join("slurm/submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");
    for f in ["bench-array.sbatch", "bench-report.sbatch", "submit.sh"] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(dir.join("slurm").join(f))
            .status()
            .unwrap();
        assert!(status.success(), "{f} does not parse");
    }
    // Nothing ran.
    assert!(!dir.join("jobs").exists());
}

#[test]
fn mnist_problems_run_on_the_repository_test_set() {
    let dir = scratch("bench-mnist");
    let data = mnist_data::mnist_dir();
    let out = optimist(&[
        "bench",
        "--problem",
        "logreg:budget=30",
        "--problem",
        "mlp:budget=20,batch=32",
        "-o",
        "adam",
        "--seeds",
        "2",
        "--trials",
        "2",
        "--lr-range",
        "1e-3,1e-2",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("training on 8000 of the 10000 test images"),
        "{stderr}"
    );
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    // Logistic regression starts from zero weights: the loss of a uniform guess, ln 10.
    let first = csv.lines().nth(1).unwrap();
    let loss: f64 = first.rsplit(',').next().unwrap().parse().unwrap();
    assert!(
        first.starts_with("logreg:budget=30,adam,0.001,0,0,"),
        "{first}"
    );
    assert!((loss - 10f64.ln()).abs() < 1e-5, "{loss}");
    // The MLP's metric is an accuracy, a fraction of the 2,000 held-out images.
    for line in csv.lines().filter(|l| l.starts_with("mlp")) {
        let acc: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert!(
            (0.0..=1.0).contains(&acc) && (acc * 2000.0).fract() < 1e-9,
            "{line}"
        );
    }
}

fn fails(args: &[&str], code: i32, wanted: &[&str]) {
    let out = optimist(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{args:?}: wanted {w:?} in {stderr}");
    }
}

#[test]
fn bad_input_says_what_is_allowed() {
    let dir = scratch("bench-bad");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    fails(
        &["bench", "--problem", "rosenbrok", "--out", o],
        2,
        &[
            "unknown problem",
            "known problems: nqm, logreg, mlp",
            "rosenbrock",
        ],
    );
    fails(
        &["bench", "--problem", "nqm:kapa=3", "--out", o],
        2,
        &["unknown key 'kapa'", "dim, kappa, sigma, budget, target"],
    );
    fails(
        &["bench", "--problem", "nqm:kappa=0.5", "--out", o],
        2,
        &["kappa='0.5' is not a number from 1 to"],
    );
    fails(
        &["bench", "--problem", "nqm", "-o", "adamm", "--out", o],
        2,
        &["adamm"],
    );
    fails(
        &["bench", "--seeds", "0", "--out", o],
        2,
        &["0 seeds: expected 1 to"],
    );
    fails(
        &["bench", "--shard", "4/4", "--out", o],
        2,
        &["is not I/N with 0 ≤ I < N"],
    );
    fails(
        &["bench", "--lr-range", "1,0.1", "--out", o],
        2,
        &["0 < MIN < MAX"],
    );
    fails(&["bench", "--trials", "1", "--out", o], 2, &["at least 2"]);
    fails(&["bench", "report", o], 2, &["is not a bench folder"]);
    // A folder holding another suite is not reused.
    ok(&optimist(&[&SMALL[..], &["--out", o]].concat()));
    fails(
        &[
            "bench",
            "--problem",
            "booth:budget=11",
            "-o",
            "sgd",
            "--seeds",
            "1",
            "--trials",
            "2",
            "--out",
            o,
        ],
        2,
        &["holds another bench"],
    );
    assert!(!dir.join("out/jobs/booth_budget=11").exists());
    let out = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(["bench", "--problem", "booth", "--out", o])
        .env("SLURM_ARRAY_TASK_ID", "x")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("SLURM_ARRAY_TASK_ID='x' is not a whole number"));
}

/// `optimist` run under `timeout`, so that a hang fails the test instead of holding it.
fn bounded(args: &[&std::ffi::OsStr], cwd: Option<&Path>) -> std::process::Output {
    let mut c = Command::new("timeout");
    c.arg("60").arg(env!("CARGO_BIN_EXE_optimist")).args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.output().unwrap();
    assert_ne!(out.status.code(), Some(124), "{args:?} hung");
    out
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.into()).collect()
}

fn refs(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    args.iter().map(|a| a.as_os_str()).collect()
}

/// A newline in `--out` once broke the `#SBATCH --output=` line and ran the command
/// after it. Paths with quotes, `$( )`, backticks, spaces, `%` and `#` are quoted: a
/// stub sbatch sees exactly the folder, the scripts run the bench in it, and nothing
/// else runs (no canary file); control characters and non-UTF-8 are refused.
#[cfg(unix)]
#[test]
fn hostile_paths_are_quoted_or_refused_in_the_slurm_scripts() {
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::fs::PermissionsExt as _;
    let base = scratch("bench-slurm-hostile");
    let bin = base.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = base.join("sbatch.log");
    let stub = bin.join("sbatch");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\n{{ printf 'cwd=%s\\n' \"$(pwd)\"; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; }} >> '{}'\necho 42\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let canary = base.join("canary");
    let shell = if Path::new("/bin/bash").exists() {
        "bash"
    } else {
        "sh"
    };
    for name in [
        "q'uote",
        "d\"ouble",
        "$(touch canary)",
        "`touch canary`",
        "sp ace",
        "all ' \" $(touch canary) `touch canary` 100%a #x",
    ] {
        let dir = base.join(name);
        let mut args = os(&SMALL);
        args.extend(os(&["--slurm", "--slurm-tasks", "1", "--out"]));
        args.push(dir.clone().into());
        let out = bounded(&refs(&args), Some(&base));
        ok(&out);
        let slurm = dir.join("slurm");
        for f in ["bench-array.sbatch", "bench-report.sbatch", "submit.sh"] {
            let status = Command::new(shell)
                .arg("-n")
                .arg(slurm.join(f))
                .status()
                .unwrap();
            assert!(status.success(), "{name}: {f} does not parse");
        }
        let _ = std::fs::remove_file(&log);
        let out = Command::new("sh")
            .arg(slurm.join("submit.sh"))
            .env("PATH", &path)
            .current_dir(&base)
            .output()
            .unwrap();
        ok(&out);
        let seen = std::fs::read_to_string(&log).unwrap();
        let cwd = format!("cwd={}", slurm.display());
        assert_eq!(
            seen,
            format!("{cwd}\n[--parsable]\n[bench-array.sbatch]\n{cwd}\n[--parsable]\n[--dependency=afterok:42]\n[bench-report.sbatch]\n"),
            "{name}"
        );
        // What the nodes run: the shard, then the report, into exactly that folder.
        let out = Command::new("sh")
            .arg(slurm.join("bench-array.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", "0")
            .env("SLURM_ARRAY_TASK_COUNT", "1")
            .current_dir(&base)
            .output()
            .unwrap();
        ok(&out);
        let out = Command::new("sh")
            .arg(slurm.join("bench-report.sbatch"))
            .current_dir(&base)
            .output()
            .unwrap();
        ok(&out);
        assert!(dir.join("report.md").is_file(), "{name}");
        assert_eq!(job_files(&dir).len(), 2, "{name}");
        assert!(!canary.exists(), "{name}: a command ran");
    }
    // Slurm cannot take a control character, nor a path that is not UTF-8.
    let mut bad: Vec<(std::ffi::OsString, &str)> = vec![
        ("x\n$(touch canary)\ny".into(), "control character (\\n)"),
        ("tab\there".into(), "control character (\\t)"),
    ];
    bad.push((
        std::ffi::OsStr::from_bytes(b"bad\xff").to_os_string(),
        "is not valid UTF-8",
    ));
    for (name, wanted) in bad {
        let dir = base.join(&name);
        let mut args = os(&SMALL);
        args.extend(os(&["--slurm", "--out"]));
        args.push(dir.clone().into());
        let out = bounded(&refs(&args), Some(&base));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(wanted) && stderr.contains("Slurm"),
            "{stderr}"
        );
        assert!(!dir.exists(), "{name:?}");
    }
    assert!(!canary.exists());
}

/// Tampered results (a metric of −5, a 3-point curve, a step of 10^18, a 3M-point
/// curve) and special files (a link to /dev/zero, a FIFO) were once read as done, or
/// hung the bench: `bench report` now fails naming the file, and `bench` says so and
/// runs the job again, each within the time bound.
#[cfg(unix)]
#[test]
fn tampered_or_special_job_files_are_never_taken_as_done() {
    let dir = scratch("bench-tampered");
    let d = dir.to_str().unwrap();
    let args = [
        "bench",
        "--problem",
        "rosenbrock:budget=20",
        "-o",
        "sgd",
        "--seeds",
        "1",
        "--trials",
        "2",
        "--out",
        d,
    ];
    ok(&bounded(&refs(&os(&args)), None));
    let jobs = job_files(&dir);
    assert_eq!(jobs.len(), 2);
    let target = &jobs[0];
    let good = std::fs::read(target).unwrap();
    let record: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let edited = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut r = record.clone();
        f(&mut r);
        serde_json::to_vec(&r).unwrap()
    };
    let json = |v: Vec<u8>| -> Box<dyn Fn(&Path)> {
        Box::new(move |p: &Path| std::fs::write(p, &v).unwrap())
    };
    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a metric of -5",
            json(edited(&|r| r["curve"]["metric"][3] = (-5.0).into())),
            "is -5, outside 0 to",
        ),
        (
            "a 3-point curve",
            json(edited(&|r| {
                let c = &mut r["curve"];
                c["steps"] = c["steps"].as_array().unwrap()[..3].to_vec().into();
                c["metric"] = c["metric"].as_array().unwrap()[..3].to_vec().into();
            })),
            "recorded at 3 steps",
        ),
        (
            "a step of 10^18",
            json(edited(&|r| {
                r["curve"]["steps"][20] = 1_000_000_000_000_000_000u64.into()
            })),
            "recorded at 21 steps",
        ),
        (
            "a 3M-point curve",
            json(edited(&|r| {
                r["curve"]["steps"] = (0..3_000_000u64).collect::<Vec<_>>().into();
                r["curve"]["metric"] = vec![1.0; 3_000_000].into();
            })),
            "larger than",
        ),
        ("damaged JSON", json(b"{".to_vec()), "not a job result"),
        (
            "a link to /dev/zero",
            Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            "not a regular file but a device",
        ),
        (
            "a FIFO",
            Box::new(|p: &Path| assert!(Command::new("mkfifo").arg(p).status().unwrap().success())),
            "not a regular file but a FIFO",
        ),
    ];
    let shown = target.display().to_string();
    for (what, tamper, why) in cases {
        std::fs::remove_file(target).unwrap();
        tamper(target);
        let out = bounded(&refs(&os(&["bench", "report", d])), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains(&shown)
                && stderr.contains("is not a valid result")
                && stderr.contains(why),
            "{what}: {stderr}"
        );
        let out = bounded(&refs(&os(&args)), None);
        ok(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("note: {shown} is not a valid result"))
                && stderr.contains(why)
                && stderr.contains("running the job again")
                && stderr.contains("1 jobs run, 1 already done"),
            "{what}: {stderr}"
        );
        // Run again, the job gives its curve back.
        let again: serde_json::Value =
            serde_json::from_slice(&std::fs::read(target).unwrap()).unwrap();
        assert_eq!(again["curve"], record["curve"], "{what}");
        assert!(std::fs::symlink_metadata(target).unwrap().is_file());
    }
}
