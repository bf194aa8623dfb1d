//! Saved state: a run stopped after step k, saved, loaded into a newly built optimizer
//! and continued gives the same bits as a run never stopped; a damaged or foreign
//! state is refused with an error that names the problem.

use optimist::clip::{Clip, Clipped};
use optimist::groups::{GroupSpec, Grouped};
use optimist::schedule::{Schedule, Scheduled};
use optimist::{registry, Convention, Error, Float, NonFinite, Optimizer, Params, Tensor};
use std::path::Path;

/// A small network's tensors: two matrices and a bias.
fn start<F: Float>() -> Params<F> {
    let t = |shape: &[usize], seed: usize| {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| F::from_f64((((i + seed) * 7919) % 200) as f64 / 100.0 - 1.0))
            .collect();
        Tensor::new(shape.to_vec(), data).unwrap()
    };
    [
        ("fc1.weight", t(&[3, 4], 1)),
        ("fc1.bias", t(&[4], 2)),
        ("fc2.weight", t(&[4, 2], 3)),
    ]
    .into_iter()
    .collect()
}

/// Gradients that depend on the parameters and the step, as a loss's would.
fn grads<F: Float>(params: &Params<F>, step: usize) -> Params<F> {
    params
        .iter()
        .map(|(name, t)| {
            let data = t
                .data()
                .iter()
                .map(|x| {
                    let x = x.to_f64();
                    F::from_f64(0.3 * x + (3.0 * x + step as f64).cos())
                })
                .collect();
            (name, Tensor::new(t.shape().to_vec(), data).unwrap())
        })
        .collect()
}

fn run<F: Float>(
    opt: &mut dyn Optimizer<F>,
    params: &mut Params<F>,
    steps: std::ops::Range<usize>,
) {
    for step in steps {
        let g = grads(params, step);
        opt.update(params, &g).unwrap();
    }
}

fn bits<F: Float>(params: &Params<F>) -> Vec<u64> {
    params
        .iter()
        .flat_map(|(_, t)| t.data().iter().map(|x| x.to_f64().to_bits()))
        .collect()
}

/// Runs `total` steps straight, and `k` steps then a save, a load into a new optimizer
/// and the rest; the parameters and the final saved states must be bit-identical.
fn resumes_bit_identically<F: Float>(
    build: &dyn Fn() -> Box<dyn Optimizer<F>>,
    k: usize,
    total: usize,
) {
    let mut straight = build();
    let mut p1 = start::<F>();
    run(straight.as_mut(), &mut p1, 0..total);

    let mut first = build();
    let mut p2 = start::<F>();
    run(first.as_mut(), &mut p2, 0..k);
    let bytes = first.save_state().unwrap();
    drop(first);
    let mut resumed = build();
    resumed.load_state(&bytes).unwrap();
    assert_eq!(resumed.steps(), k as u64, "{}", resumed.label());
    run(resumed.as_mut(), &mut p2, k..total);

    let label = straight.label();
    assert_ne!(bits(&p1), bits(&start::<F>()), "{label} did not move");
    assert_eq!(bits(&p1), bits(&p2), "{label}");
    assert_eq!(straight.steps(), resumed.steps(), "{label}");
    assert_eq!(straight.label(), resumed.label(), "{label}");
    assert!(
        straight.save_state().unwrap() == resumed.save_state().unwrap(),
        "{label}: the saved states differ"
    );
}

fn spec(text: &str, convention: Convention) -> impl Fn() -> Box<dyn Optimizer<f64>> + '_ {
    move || registry::build_in(&text.parse().unwrap(), convention).unwrap()
}

#[test]
fn every_kind_of_optimizer_resumes_bit_identically() {
    let cases: &[(&str, Convention)] = &[
        ("adam:lr=0.1", Convention::Article),
        ("sgd:lr=0.05,momentum=0.9", Convention::PyTorch),
        ("adamw:lr=0.05,weight_decay=0.1", Convention::PyTorch),
        ("adam:lr=0.05,amsgrad=true", Convention::PyTorch),
        ("nadam:lr=0.05", Convention::PyTorch),
        ("adafactor:lr=0.05", Convention::PyTorch),
        ("lamb:learning_rate=0.05", Convention::Optax),
        (
            "schedule_free_adamw:learning_rate=0.05,warmup_steps=3",
            Convention::Optax,
        ),
    ];
    for &(text, convention) in cases {
        for k in [0, 1, 4] {
            resumes_bit_identically(&spec(text, convention), k, 7);
        }
    }
    let adam32 = || registry::parse::<f32>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    resumes_bit_identically::<f32>(&adam32, 3, 6);
}

#[test]
fn wrapped_optimizers_resume_bit_identically() {
    let scheduled = |schedule: &'static str, inner: &'static str| {
        move || -> Box<dyn Optimizer<f64>> {
            let opt = registry::build_in(&inner.parse().unwrap(), Convention::PyTorch).unwrap();
            Box::new(Scheduled::new(opt, schedule.parse::<Schedule>().unwrap()).unwrap())
        }
    };
    // Stopped inside the warm-up, after it, and at the end of a OneCycleLR cycle.
    let cosine = scheduled(
        "cosineannealinglr:T_max=4,warmup_steps=2",
        "sgd:lr=0.1,momentum=0.9",
    );
    for k in [1, 3, 5] {
        resumes_bit_identically(&cosine, k, 8);
    }
    let one_cycle = scheduled("onecyclelr:max_lr=0.1,total_steps=6", "adam:lr=0.01");
    for k in [2, 7] {
        resumes_bit_identically(&one_cycle, k, 7);
    }

    let clipped = || -> Box<dyn Optimizer<f64>> {
        let opt = registry::parse("adam:lr=0.1", optimist::Convention::Article).unwrap();
        Box::new(Clipped::new(
            opt,
            "clip_grad_norm:max_norm=0.5".parse::<Clip>().unwrap(),
        ))
    };
    resumes_bit_identically(&clipped, 3, 6);

    let grouped = || -> Box<dyn Optimizer<f64>> {
        let groups: Vec<GroupSpec> = vec![
            "*.bias:weight_decay=0".parse().unwrap(),
            "fc2.*:lr=0.01".parse().unwrap(),
        ];
        let spec = "adamw:lr=0.05,weight_decay=0.1".parse().unwrap();
        let opt = Grouped::build(&spec, &groups, Convention::PyTorch).unwrap();
        Box::new(
            Scheduled::new(
                Box::new(opt),
                "steplr:step_size=2,gamma=0.5".parse().unwrap(),
            )
            .unwrap(),
        )
    };
    resumes_bit_identically(&grouped, 3, 7);
}

#[test]
fn saved_files_load_back_and_are_replaced_whole() {
    let dir = std::env::temp_dir().join(format!("optimist-saved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adam.state");
    let mut opt = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    let mut params = start::<f64>();
    run(opt.as_mut(), &mut params, 0..2);
    opt.save(&path).unwrap();
    run(opt.as_mut(), &mut params, 2..3);
    opt.save(&path).unwrap();
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["adam.state"]);
    assert_eq!(std::fs::read(&path).unwrap(), opt.save_state().unwrap());

    let mut loaded = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    loaded.load(&path).unwrap();
    assert_eq!(loaded.steps(), 3);

    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 9);
    std::fs::write(&path, &bytes).unwrap();
    let e = loaded.load(&path).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "cannot load the optimizer state from '{}': it is truncated: {} bytes, its header announces {}",
            path.display(),
            bytes.len(),
            bytes.len() + 9
        )
    );
    assert_eq!(loaded.steps(), 3);
    let missing = dir.join("missing.state");
    let e = loaded.load(&missing).unwrap_err();
    assert!(
        matches!(&e, Error::Io { action, .. } if action == "read"),
        "{e}"
    );
    // The system's error is kept as the source.
    let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        source.map(|s| s.kind()),
        Some(std::io::ErrorKind::NotFound),
        "{e:?}"
    );
    let e = opt
        .save(&dir.join("no-such-dir").join("x.state"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot create a temporary file in '"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Saves go through a temporary file of a random name, created exclusively: a link
/// planted where the old scheme put its temporary file (`PATH.tmp`) is not followed,
/// and many saves to one path at once all succeed, leaving one whole file.
#[test]
fn concurrent_saves_to_one_path_all_succeed_and_follow_no_link() {
    let dir = std::env::temp_dir().join(format!("optimist-saves-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state");
    let victim = dir.join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, dir.join("state.tmp")).unwrap();
    let mut opt = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    run(opt.as_mut(), &mut start::<f64>(), 0..2);
    let bytes = opt.save_state().unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let mut own =
                        registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article)
                            .unwrap();
                    own.load_state(&bytes).unwrap();
                    (0..20).map(|_| own.save(&path)).collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for saved in h.join().unwrap() {
                saved.unwrap();
            }
        }
    });
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp") && n != "state.tmp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Loading from a FIFO, a device or a folder is an error at once: no wait for a writer
/// that never comes, no read of an endless device.
#[cfg(target_os = "linux")]
#[test]
fn loading_from_what_is_not_a_regular_file_is_an_error_not_a_hang() {
    let dir = std::env::temp_dir().join(format!("optimist-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut opt = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    for path in [fifo.as_path(), Path::new("/dev/zero"), dir.as_path()] {
        let e = opt.load(path).unwrap_err().to_string();
        assert!(
            e.contains("a state file is a regular file"),
            "{}: {e}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The error loading `bytes` into `opt`, which must stay as it was.
fn refused(opt: &mut dyn Optimizer<f64>, bytes: &[u8]) -> String {
    let before = opt.save_state().unwrap();
    let e = opt.load_state(bytes).unwrap_err();
    assert!(matches!(e, Error::StateFile { .. }), "{e}");
    assert!(
        opt.save_state().unwrap() == before,
        "a failed load changed the state"
    );
    e.to_string()
}

#[test]
fn damaged_or_foreign_states_are_refused_and_named() {
    let mut adam = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    let mut params = start::<f64>();
    run(adam.as_mut(), &mut params, 0..3);
    let bytes = adam.save_state().unwrap();
    let mut fresh = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();

    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    assert_eq!(
        refused(fresh.as_mut(), &flipped),
        "cannot load the optimizer state: it is corrupt: its checksum does not match its content"
    );
    assert!(refused(fresh.as_mut(), &bytes[..bytes.len() / 3]).contains("it is truncated"));
    assert!(refused(fresh.as_mut(), b"").contains("it is truncated: 0 bytes"));
    assert!(refused(fresh.as_mut(), b"{\"state\": 1}").contains("not an optimist state file"));

    let mut sgd = registry::parse::<f64>("sgd:lr=0.1", optimist::Convention::Article).unwrap();
    assert_eq!(
        refused(sgd.as_mut(), &bytes),
        "cannot load the optimizer state: it holds the state of adam (article), and this optimizer is sgd (article)"
    );
    let mut torch_adam =
        registry::build_in::<f64>(&"adam".parse().unwrap(), Convention::PyTorch).unwrap();
    assert!(refused(torch_adam.as_mut(), &bytes)
        .contains("it holds the state of adam (article), and this optimizer is adam (pytorch)"));
    let mut other_lr =
        registry::parse::<f64>("adam:lr=0.2", optimist::Convention::Article).unwrap();
    assert_eq!(
        refused(other_lr.as_mut(), &bytes),
        "cannot load the optimizer state: its adam has lr = 0.1, and this one lr = 0.2"
    );
    let mut f32_adam =
        registry::parse::<f32>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    let e = f32_adam.load_state(&bytes).unwrap_err().to_string();
    assert!(
        e.ends_with("it holds f64 numbers, and this optimizer computes in f32"),
        "{e}"
    );
    let mut amsgrad = registry::build_in::<f64>(
        &"adam:lr=0.1,amsgrad=true".parse().unwrap(),
        Convention::PyTorch,
    )
    .unwrap();
    let plain = registry::build_in::<f64>(&"adam:lr=0.1".parse().unwrap(), Convention::PyTorch)
        .unwrap()
        .save_state()
        .unwrap();
    assert!(refused(amsgrad.as_mut(), &plain)
        .contains("its adam has amsgrad = false, and this one amsgrad = true"));

    let mut scheduled = Scheduled::new(
        registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap(),
        "steplr:step_size=2".parse().unwrap(),
    )
    .unwrap();
    assert!(refused(&mut scheduled, &bytes).contains(
        "it holds the state of an optimizer without schedule, clipping or groups, and this is an optimizer with a learning-rate schedule"
    ));
    let saved = scheduled.save_state().unwrap();
    let mut other_schedule = Scheduled::new(
        registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap(),
        "steplr:step_size=3".parse().unwrap(),
    )
    .unwrap();
    assert!(refused(&mut other_schedule, &saved)
        .contains("its schedule is steplr:step_size=2,gamma=0.1, and this optimizer's steplr:step_size=3,gamma=0.1"));
}

#[test]
fn states_for_other_tensors_are_refused_on_load_or_on_the_next_step() {
    let mut adam = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    let mut params = start::<f64>();
    run(adam.as_mut(), &mut params, 0..2);
    let bytes = adam.save_state().unwrap();

    // An optimizer with state for other shapes refuses the file.
    let mut other: Params<f64> = [
        ("fc1.weight", Tensor::zeros([4, 3])),
        ("fc1.bias", Tensor::zeros([4])),
        ("fc2.weight", Tensor::zeros([4, 2])),
    ]
    .into_iter()
    .collect();
    let mut busy = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    let g = other.zeros_like();
    busy.update(&mut other, &g).unwrap();
    assert_eq!(
        refused(busy.as_mut(), &bytes),
        "cannot load the optimizer state: its state is for the tensors 'fc1.weight' [3, 4], 'fc1.bias' [4], 'fc2.weight' [4, 2], \
         and this optimizer's for 'fc1.weight' [4, 3], 'fc1.bias' [4], 'fc2.weight' [4, 2] (reset it to load another's)"
    );
    busy.reset();
    busy.load_state(&bytes).unwrap();

    // A new optimizer takes the file's tensors, and its next step checks them.
    let before = other.clone();
    let e = busy.update(&mut other, &g).unwrap_err().to_string();
    assert!(
        e.contains("parameter 'fc1.weight' has shape [4, 3] but its state has shape [3, 4]"),
        "{e}"
    );
    assert_eq!(other, before);
}

#[test]
fn skipped_steps_and_the_policy_survive_a_resume() {
    let mut opt = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    opt.set_nonfinite(NonFinite::Skip).unwrap();
    let mut params = start::<f64>();
    run(opt.as_mut(), &mut params, 0..2);
    let mut bad = grads(&params, 2);
    bad.get_mut("fc1.bias").unwrap().data_mut()[1] = f64::NAN;
    opt.update(&mut params, &bad).unwrap();
    assert_eq!((opt.steps(), opt.skipped_steps()), (2, 1));
    let mut resumed = registry::parse::<f64>("adam:lr=0.1", optimist::Convention::Article).unwrap();
    resumed.load_state(&opt.save_state().unwrap()).unwrap();
    assert_eq!((resumed.steps(), resumed.skipped_steps()), (2, 1));
    // The policy is the optimizer's setting, not state: the new one refuses.
    assert_eq!(resumed.nonfinite(), NonFinite::Refuse);
}
