//! The network experiment: exact repeatability, the book's smoothing, outputs, errors,
//! and learning on synthetic and (where present) real MNIST images.

use crate::mnist_data;

use mnist_data::mnist_dir;
use optimist_lab::data::mnist::Dataset;
use optimist_lab::rng::SplitMix64;
use optimist_lab::train::{
    self, kaiser, loss_csv, smooth_curve, summary_csv, EvalSet, Event, Parallelism, TrainConfig,
    TrainData, TrainResult,
};
use std::path::Path;

/// Ten classes of 4×4 images: a random template per class, each pixel jittered and
/// a tenth of the pixels dropped to 0.
fn synthetic(n: usize, seed: u64) -> Dataset {
    let mut rng = SplitMix64::new(seed);
    let mut templates = SplitMix64::new(1000);
    let protos: Vec<Vec<f64>> = (0..10)
        .map(|_| (0..16).map(|_| templates.next_f64() * 255.0).collect())
        .collect();
    let mut pixels = Vec::with_capacity(n * 16);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let c = rng.below(10) as usize;
        labels.push(c as u8);
        for &p in &protos[c] {
            let v = if rng.next_f64() < 0.1 {
                0.0
            } else {
                p + 30.0 * rng.normal()
            };
            pixels.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    Dataset {
        rows: 4,
        cols: 4,
        pixels,
        labels,
    }
}

fn synthetic_data() -> TrainData {
    TrainData {
        train: synthetic(2000, 1),
        eval: synthetic(500, 2),
        eval_set: EvalSet::Test,
        note: None,
    }
}

fn small_config(seed: u64) -> TrainConfig {
    TrainConfig {
        iterations: 300,
        batch_size: 32,
        hidden: vec![24, 24],
        ..TrainConfig::book(seed)
    }
}

fn run(config: &TrainConfig, data: &TrainData) -> TrainResult {
    train::train(config, data, &mut |_| {}).unwrap()
}

#[test]
fn a_seed_repeats_a_run_exactly_in_parallel_or_not() {
    let data = synthetic_data();
    let mut config = small_config(42);
    config.parallelism = Parallelism::Parallel;
    let a = run(&config, &data);
    config.parallelism = Parallelism::Sequential;
    let b = run(&config, &data);
    assert!(a.parallel && !b.parallel);
    for (x, y) in a.runs.iter().zip(&b.runs) {
        assert_eq!(x.losses, y.losses, "{}", x.spec);
        assert_eq!(x.accuracy, y.accuracy);
        assert_eq!(x.train_loss, y.train_loss);
    }
    let c = run(&small_config(43), &data);
    assert_ne!(a.runs[3].losses, c.runs[3].losses);
}

#[test]
fn every_default_optimizer_learns_the_synthetic_classes() {
    let data = synthetic_data();
    let result = run(&small_config(7), &data);
    assert_eq!(result.runs.len(), 4);
    for r in &result.runs {
        assert_eq!(r.losses.len(), 300);
        assert!(r.diverged_at.is_none());
        let s = r.smoothed();
        assert!(
            s[299] < s[0],
            "{}: smoothed loss from {} to {}",
            r.spec,
            s[0],
            s[299]
        );
    }
    // Adam at lr 0.001 reaches 88.6% here in 300 small batches; chance is 10%.
    let adam = &result.runs[3];
    assert!(adam.accuracy > 0.85, "adam accuracy {}", adam.accuracy);
    assert!(adam.train_loss < 0.6, "adam train loss {}", adam.train_loss);
}

#[test]
fn events_report_progress_and_the_books_loss_lines() {
    let data = synthetic_data();
    let config = TrainConfig {
        iterations: 250,
        ..small_config(1)
    };
    let mut done = Vec::new();
    let mut logged = Vec::new();
    let mut evaluating = 0;
    let result = train::train(&config, &data, &mut |e| match e {
        Event::Iteration { done: d, total } => {
            assert_eq!(total, 250);
            done.push(d);
        }
        Event::Losses { iteration, losses } => logged.push((iteration, losses.to_vec())),
        Event::Evaluating => evaluating += 1,
    })
    .unwrap();
    assert_eq!(done, (1..=250).collect::<Vec<_>>());
    assert_eq!(evaluating, 1);
    let iterations: Vec<usize> = logged.iter().map(|(i, _)| *i).collect();
    assert_eq!(iterations, [0, 100, 200]);
    for (i, losses) in &logged {
        for ((spec, loss), r) in losses.iter().zip(&result.runs) {
            assert_eq!(spec, &r.spec.to_string());
            assert_eq!(*loss, f64::from(r.losses[*i]));
        }
    }
}

#[test]
fn a_diverging_optimizer_stops_and_the_others_go_on() {
    let data = synthetic_data();
    let config = TrainConfig {
        optimizers: vec!["sgd:lr=1e30".parse().unwrap(), "adam".parse().unwrap()],
        iterations: 50,
        ..small_config(3)
    };
    let result = run(&config, &data);
    let d = result.runs[0].diverged_at.expect("lr 1e30 overflows f32");
    assert!(result.runs[0].losses[d..].iter().all(|l| l.is_nan()));
    assert!(result.runs[0].losses[..d].iter().all(|l| l.is_finite()));
    assert!(result.runs[1].diverged_at.is_none());
    assert!(result.runs[1].losses.iter().all(|l| l.is_finite()));
}

#[test]
fn kaiser_window_and_smoothing_match_the_books_numpy_code() {
    // w(n) = I0(2·√(1 − (2n/10 − 1)²)) / I0(2), evaluated in Python with an I0 series.
    let want = [
        0.4386762798370488,
        0.611394354361649,
        0.7676749968275237,
        0.8921614338542883,
        0.9723298008693714,
        1.0,
    ];
    let w = kaiser(11, 2.0);
    for (k, &v) in want.iter().enumerate() {
        assert!(
            (w[k] - v).abs() < 1e-14 && (w[10 - k] - v).abs() < 1e-14,
            "{k}"
        );
    }
    // The book's smooth_curve (np.r_ reflection, np.convolve 'valid', y[5:-5]) run in
    // plain Python on x_i = ((7i mod 13) / 13) + i/100, i < 25.
    let x: Vec<f64> = (0..25)
        .map(|i| ((i * 7) % 13) as f64 / 13.0 + 0.01 * i as f64)
        .collect();
    let want = [
        0.3728510444084145,
        0.357707981626178,
        0.395705354092888,
        0.40216702499341506,
        0.4593977000222282,
        0.48183929376048285,
        0.5512376293164403,
        0.5787623706835598,
        0.5957155322909113,
        0.6025912669101036,
        0.6008605701561887,
        0.5928535469327733,
        0.5815384615384617,
        0.57022337614415,
        0.5622163529207346,
        0.5604856561668197,
        0.5673613907860118,
        0.5843145523933633,
        0.6118392937604828,
        0.6812376293164402,
        0.7324433838434304,
        0.7773182317210439,
        0.8134676203722675,
        0.8388353052906363,
        0.8519164912183211,
    ];
    let got = smooth_curve(&x);
    assert_eq!(got.len(), 25);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-14, "{i}: {g} vs {w}");
    }
    // A constant stays constant, even shorter than the window.
    for n in [1, 4, 30] {
        assert!(smooth_curve(&vec![0.25; n])
            .iter()
            .all(|v| (v - 0.25).abs() < 1e-15));
    }
}

#[test]
fn csv_holds_every_loss_exactly_and_the_summary_every_accuracy() {
    let data = synthetic_data();
    let config = TrainConfig {
        optimizers: vec![
            "sgd:lr=0.01".parse().unwrap(),
            "adam:lr=0.001,beta1=0.8".parse().unwrap(),
        ],
        iterations: 30,
        ..small_config(9)
    };
    let result = run(&config, &data);
    let csv = loss_csv(&result);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "iteration,sgd:lr=0.01,sgd:lr=0.01 smoothed,\"adam:lr=0.001,beta1=0.8\",\"adam:lr=0.001,beta1=0.8 smoothed\""
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 30);
    let smoothed = result.runs[1].smoothed();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i as f64);
        assert_eq!(row[1], f64::from(result.runs[0].losses[i]));
        assert_eq!(row[3], f64::from(result.runs[1].losses[i]));
        assert_eq!(row[4], smoothed[i]);
    }
    let summary = summary_csv(&result);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        "optimizer,label,final_smoothed_loss,train_loss,train_accuracy,test_accuracy,seconds,diverged_at"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("\"adam:lr=0.001,beta1=0.8\",\"adam(lr=0.001, beta1=0.8"));
    let accuracy: f64 = lines[1].split(',').nth(5).unwrap().parse().unwrap();
    assert_eq!(accuracy, result.runs[0].accuracy);
}

#[test]
fn outputs_are_written_whole() {
    let data = synthetic_data();
    let config = TrainConfig {
        iterations: 120,
        ..small_config(5)
    };
    let result = run(&config, &data);
    let dir = std::env::temp_dir().join(format!("optimist-train-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let paths = train::write_outputs(&result, &dir.join("nested")).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, train::OUTPUT_FILES);
    let mut listed: Vec<String> = std::fs::read_dir(dir.join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    let mut want = names.clone();
    want.sort();
    assert_eq!(listed, want, "no temporary files are left");
    let png = std::fs::File::open(&paths[2]).unwrap();
    let reader = png::Decoder::new(png).read_info().unwrap();
    // The figures' line chart: a 620 × 420 plot with the legend at its right.
    assert_eq!((reader.info().width, reader.info().height), (1024, 564));
    let svg = std::fs::read_to_string(&paths[3]).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("adam:lr=0.001") && svg.contains("iterations"));
    std::fs::remove_dir_all(&dir).unwrap();

    // A folder that cannot be created is an error naming it.
    let file = std::env::temp_dir().join(format!("optimist-train-file-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let e = train::write_outputs(&result, &file.join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&file.display().to_string()) && e.contains("cannot write"),
        "{e}"
    );
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn bad_settings_are_errors_before_any_work() {
    let data = synthetic_data();
    let cases: Vec<(TrainConfig, &str)> = vec![
        (
            TrainConfig {
                iterations: 0,
                ..small_config(0)
            },
            "iterations must be at least 1",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..small_config(0)
            },
            "batch size must be at least 1",
        ),
        (
            TrainConfig {
                hidden: vec![10, 0],
                ..small_config(0)
            },
            "hidden layer 2 has zero units",
        ),
        (
            TrainConfig {
                optimizers: vec![],
                ..small_config(0)
            },
            "no optimizers",
        ),
        (
            TrainConfig {
                optimizers: vec!["adam".parse().unwrap(), "adam".parse().unwrap()],
                ..small_config(0)
            },
            "optimizer 'adam' is given twice",
        ),
        (
            TrainConfig {
                optimizers: vec!["adam:beta1=2".parse().unwrap()],
                ..small_config(0)
            },
            "optimizer 'adam:beta1=2': adam: beta1 = 2 is out of range",
        ),
        (
            TrainConfig {
                optimizers: vec!["adamm".parse().unwrap()],
                ..small_config(0)
            },
            "unknown optimizer 'adamm'",
        ),
    ];
    for (config, want) in cases {
        let mut events = 0;
        let e = train::train(&config, &data, &mut |_| events += 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
        assert_eq!(events, 0);
    }
    let huge = TrainConfig {
        hidden: vec![5000; 3],
        ..small_config(0)
    };
    let e = train::train(&huge, &data, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a 16-5000-5000-5000-10 network has 50145010 parameters; at most 20000000"),
        "{e}"
    );
    let e = train::load_data(Path::new("/nonexistent/mnist"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/mnist: no such folder"), "{e}");
}

/// A shortened book run on the real images: the full run (2000 iterations) is in the
/// report; this one keeps CI fast (1 s optimized; unoptimized builds take minutes, so
/// they skip it).
#[test]
fn real_mnist_reduced_run_learns() {
    if cfg!(debug_assertions) {
        eprintln!("skipped in an unoptimized build: cargo test --release runs it");
        return;
    }
    let dir = mnist_dir();
    let data = train::load_data(&dir).unwrap();
    if data.eval_set == EvalSet::HeldOut {
        assert_eq!((data.train.len(), data.eval.len()), (8000, 2000));
        let note = data.note.as_deref().unwrap();
        assert!(
            note.contains("training on 8000 of the 10000 test images"),
            "{note}"
        );
    }
    let config = TrainConfig {
        iterations: 300,
        ..TrainConfig::book(2024)
    };
    let result = run(&config, &data);
    for r in &result.runs {
        let s = r.smoothed();
        assert!(
            s[299] < s[0],
            "{}: smoothed loss from {} to {}",
            r.spec,
            s[0],
            s[299]
        );
    }
    let adam = &result.runs[3];
    assert!(
        adam.accuracy >= 0.88,
        "adam accuracy after 300 iterations {}",
        adam.accuracy
    );
}

/// The run's schedule, clipping and groups reach every step: when they cannot change
/// anything (a clip that never binds, a group that sets what the spec sets) the losses
/// are the plain run's, bit for bit; when they bind, the losses differ.
#[test]
fn schedule_clip_and_groups_reach_every_step() {
    let data = synthetic_data();
    let mut base = small_config(7);
    base.optimizers = vec!["adam:lr=0.01".parse().unwrap()];
    base.parallelism = Parallelism::Sequential;
    let plain = run(&base, &data).runs.remove(0);

    let mut idle = base.clone();
    idle.clip = Some("clip_grad_norm:max_norm=1e30".parse().unwrap());
    idle.groups = vec!["b*:lr=0.01".parse().unwrap()];
    let same = run(&idle, &data).runs.remove(0);
    assert_eq!(same.losses, plain.losses);

    let mut scheduled = base.clone();
    scheduled.schedule = Some("cosineannealinglr:T_max=300".parse().unwrap());
    let mut clipped = base.clone();
    clipped.clip = Some("clip_grad_norm:max_norm=0.01".parse().unwrap());
    let mut grouped = base.clone();
    grouped.groups = vec!["b*:lr=0.1".parse().unwrap()];
    for (what, config) in [
        ("schedule", scheduled),
        ("clip", clipped),
        ("group", grouped),
    ] {
        let r = run(&config, &data).runs.remove(0);
        assert!(r.losses.iter().all(|l| l.is_finite()), "{what}");
        assert_ne!(r.losses, plain.losses, "{what} changed nothing");
        assert!(r.label.starts_with("adam(lr=0.01,"), "{what}: {}", r.label);
    }
}

/// The loss figure's legend says each optimizer's convention and, when set, schedule.
#[test]
fn the_loss_figure_names_convention_and_schedule() {
    let data = synthetic_data();
    let mut config = small_config(7);
    config.optimizers = vec!["adam:lr=0.01".parse().unwrap()];
    config.schedule = Some("cosineannealinglr:T_max=300".parse().unwrap());
    let result = run(&config, &data);
    let figure = train::LossFigure::new(&result);
    let detail = &figure.curves[0].detail;
    let schedule = config.schedule.as_ref().unwrap().to_string();
    assert!(
        detail.contains(&format!("{} convention", config.convention)),
        "{detail}"
    );
    assert!(detail.ends_with(&schedule), "{detail}");
    config.schedule = None;
    let plain = train::LossFigure::new(&run(&config, &data));
    assert!(plain.curves[0].detail.ends_with(" convention"));
    assert!(figure.png().is_ok());
}
