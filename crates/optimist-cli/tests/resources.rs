//! Runs too large for the memory, and absurd thread counts: refused or capped up
//! front, with a message naming what is too large.

use crate::common;

use common::{optimist, scratch};
use std::path::Path;
use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_race_too_large_for_the_memory_is_refused_naming_the_product() {
    let out = scratch("resources-race");
    let mut args = vec![
        "compare",
        "--out",
        out.to_str().unwrap(),
        "--steps",
        "10000000",
    ];
    for _ in 0..8 {
        args.extend(["-o", "sgd"]);
    }
    args.extend(["--memory-limit", "1G"]);
    let o = optimist(&args);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("this run would take about 7.7 GB (8 optimizers × 10000001 points × 96 bytes), more than the limit of 1.1 GB (--memory-limit)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lower --steps or the number of optimizers"),
        "{stderr}"
    );
    assert!(!out.join("trajectories.csv").exists());
    // Within the limit, the same option lets a run through.
    let o = optimist(&[
        "compare",
        "--out",
        out.to_str().unwrap(),
        "--steps",
        "10",
        "--memory-limit",
        "1G",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = optimist(&["compare", "--memory-limit", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("'lots' is not a size such as 8G"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_network_too_large_for_the_memory_is_refused_naming_the_product() {
    let out = scratch("resources-train");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--hidden",
        "4000,4000",
        "--memory-limit",
        "2G",
    ];
    let specs: Vec<String> = (1..=20).map(|i| format!("adam:lr=0.{i:04}")).collect();
    for spec in &specs {
        args.extend(["-o", spec]);
    }
    let o = optimist(&args);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("this run would take about 6.5 GB (20 optimizers × (19184010 parameters × 16 bytes + 128 images × 8794 units × 16 bytes)), more than the limit of 2.1 GB (--memory-limit)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn absurd_thread_counts_are_capped_with_a_warning() {
    let out = scratch("resources-threads");
    for (value, want) in [
        ("8000", "warning: RAYON_NUM_THREADS=8000 is more than the "),
        (
            "many",
            "warning: RAYON_NUM_THREADS='many' is not a whole number of threads",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_optimist"))
            .args(["tune", "--out", out.to_str().unwrap(), "--trials", "5"])
            .env("RAYON_NUM_THREADS", value)
            .output()
            .unwrap();
        let stderr = text(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(stderr.contains(want), "{stderr}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(["tune", "--out", out.to_str().unwrap(), "--trials", "5"])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(!text(&o.stderr).contains("RAYON_NUM_THREADS"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_unknown_instruction_set_is_warned_about() {
    let o = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(["list", "landscapes"])
        .env("OPTIMIST_ISA", "garbage")
        .output()
        .unwrap();
    let stderr = text(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(
        stderr,
        "warning: OPTIMIST_ISA='garbage' is not an instruction set the engine knows, so it is ignored; allowed: scalar, baseline, avx2, avx512\n"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_optimist"))
        .args(["list", "landscapes"])
        .env("OPTIMIST_ISA", "scalar")
        .output()
        .unwrap();
    assert_eq!(text(&o.stderr), "");
}
