//! Non-finite gradients: refused by default with parameters and state untouched,
//! skipped and counted on request, or trusted; for every engine and through every
//! wrapper.

use optimist::clip::{Clip, Clipped};
use optimist::groups::{GroupSpec, Grouped};
use optimist::schedule::Scheduled;
use optimist::{registry, Convention, Error, NonFinite, Optimizer, Params, Tensor};

fn params() -> Params<f64> {
    [
        (
            "w",
            Tensor::new([2, 3], vec![0.5, -1.0, 2.0, 0.25, -0.75, 1.5]).unwrap(),
        ),
        ("b", Tensor::vector(vec![0.1, -0.2, 0.3])),
    ]
    .into_iter()
    .collect()
}

fn grads(scale: f64) -> Params<f64> {
    [
        (
            "w",
            Tensor::new(
                [2, 3],
                vec![0.3, -0.1, 0.2, 0.4, -0.5, 0.6]
                    .into_iter()
                    .map(|g| g * scale)
                    .collect(),
            )
            .unwrap(),
        ),
        ("b", Tensor::vector(vec![-0.3 * scale, 0.2, 0.1])),
    ]
    .into_iter()
    .collect()
}

/// Gradients with `bad` at element (1, 2) of `w`.
fn poisoned(bad: f64) -> Params<f64> {
    let mut g = grads(1.0);
    g.get_mut("w").unwrap().data_mut()[5] = bad;
    g
}

fn optimizers() -> Vec<Box<dyn Optimizer<f64>>> {
    let torch =
        |s: &str| registry::build_in::<f64>(&s.parse().unwrap(), Convention::PyTorch).unwrap();
    let groups: Vec<GroupSpec> = vec!["b:weight_decay=0".parse().unwrap()];
    vec![
        registry::parse("adam:lr=0.1", optimist::Convention::Article).unwrap(),
        torch("sgd:lr=0.1,momentum=0.9"),
        torch("adafactor:lr=0.1"),
        registry::build_in(&"lamb".parse().unwrap(), Convention::Optax).unwrap(),
        Box::new(
            Scheduled::new(
                torch("adamw:lr=0.1"),
                "steplr:step_size=1,gamma=0.5".parse().unwrap(),
            )
            .unwrap(),
        ),
        Box::new(Clipped::new(
            torch("adamw:lr=0.1"),
            "clip_grad_norm:max_norm=0.1".parse::<Clip>().unwrap(),
        )),
        Box::new(Clipped::new(
            torch("adamw:lr=0.1"),
            "clip_grad_value:clip_value=0.1".parse::<Clip>().unwrap(),
        )),
        Box::new(
            Grouped::build(
                &"adamw:lr=0.1".parse().unwrap(),
                &groups,
                Convention::PyTorch,
            )
            .unwrap(),
        ),
    ]
}

fn bits(p: &Params<f64>) -> Vec<u64> {
    p.iter()
        .flat_map(|(_, t)| t.data().iter().map(|x| x.to_bits()))
        .collect()
}

#[test]
fn refused_steps_change_nothing_and_name_the_element() {
    for mut opt in optimizers() {
        let label = opt.label();
        assert_eq!(opt.nonfinite(), NonFinite::Refuse, "{label}");
        let mut p = params();
        // Also on the first step, before any state exists.
        let fresh = opt.save_state().unwrap();
        let e = opt.update(&mut p, &poisoned(f64::NAN)).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::NonFinite { tensor, index: 5, position, value }
                    if tensor == "w" && position == &[1, 2] && value == "NaN"
            ),
            "{label}: {e:?}"
        );
        assert!(e.to_string().starts_with("the gradient of 'w' holds NaN at element 5 (index [1, 2]); the step was refused and nothing changed"));
        assert_eq!(bits(&p), bits(&params()), "{label}");
        assert!(
            opt.save_state().unwrap() == fresh,
            "{label}: a refused first step left state"
        );

        opt.update(&mut p, &grads(1.0)).unwrap();
        let (moved, state, lr) = (bits(&p), opt.save_state().unwrap(), opt.learning_rate());
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let e = opt.update(&mut p, &poisoned(bad)).unwrap_err().to_string();
            assert!(
                e.contains(&format!("holds {bad} at element 5")),
                "{label}: {e}"
            );
            assert_eq!(bits(&p), moved, "{label}");
            assert!(
                opt.save_state().unwrap() == state,
                "{label}: a refused step changed the state"
            );
        }
        assert_eq!((opt.steps(), opt.skipped_steps()), (1, 0), "{label}");
        assert_eq!(opt.learning_rate(), lr, "{label}: the schedule moved");
    }
}

#[test]
fn skipped_steps_are_counted_and_the_run_goes_on_as_if_they_never_came() {
    for mut opt in optimizers() {
        let label = opt.label();
        opt.set_nonfinite(NonFinite::Skip).unwrap();
        assert_eq!(opt.nonfinite(), NonFinite::Skip);
        let mut p = params();
        opt.update(&mut p, &poisoned(f64::NAN)).unwrap();
        opt.update(&mut p, &grads(1.0)).unwrap();
        opt.update(&mut p, &poisoned(f64::INFINITY)).unwrap();
        opt.update(&mut p, &grads(2.0)).unwrap();
        assert_eq!((opt.steps(), opt.skipped_steps()), (2, 2), "{label}");

        // The same two good steps on an optimizer that never saw a bad one.
        let mut clean = optimizers()
            .into_iter()
            .find(|o| o.label() == label)
            .unwrap();
        let mut q = params();
        clean.update(&mut q, &grads(1.0)).unwrap();
        clean.update(&mut q, &grads(2.0)).unwrap();
        assert_eq!(bits(&p), bits(&q), "{label}");
        assert_eq!(opt.learning_rate(), clean.learning_rate(), "{label}");

        opt.reset();
        assert_eq!((opt.steps(), opt.skipped_steps()), (0, 0), "{label}");
        assert_eq!(
            opt.nonfinite(),
            NonFinite::Skip,
            "{label}: reset keeps the policy"
        );
    }
}

#[test]
fn trusted_gradients_let_nan_through() {
    for mut opt in optimizers() {
        let label = opt.label();
        opt.set_nonfinite(NonFinite::Trust).unwrap();
        let mut p = params();
        opt.update(&mut p, &poisoned(f64::NAN)).unwrap();
        assert_eq!(opt.steps(), 1, "{label}");
        let w = p.get("w").unwrap().data();
        // Value clipping clamps a NaN (max/min return the other operand); every other
        // optimizer writes it into the parameter.
        if label.contains("clip_grad_value") {
            assert!(w.iter().all(|x| x.is_finite()), "{label}");
        } else {
            assert!(w.iter().any(|x| x.is_nan()), "{label}: {w:?}");
        }
    }
}

#[test]
fn errors_name_the_first_bad_element_over_all_tensors() {
    let mut opt = registry::parse::<f32>("sgd:lr=0.1", optimist::Convention::Article).unwrap();
    let n = 100_000;
    let mut p: Params<f32> = [("a", Tensor::zeros([n])), ("b", Tensor::zeros([4, n / 4]))]
        .into_iter()
        .collect();
    let mut g = p.zeros_like();
    g.get_mut("b").unwrap().data_mut()[n / 4 + 3] = f32::NEG_INFINITY;
    g.get_mut("b").unwrap().data_mut()[n - 1] = f32::NAN;
    let e = opt.update(&mut p, &g).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "the gradient of 'b' holds -inf at element {} (index [1, 3])",
            n / 4 + 3
        )),
        "{e}"
    );
    g.get_mut("a").unwrap().data_mut()[n - 2] = f32::INFINITY;
    let e = opt.update(&mut p, &g).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "the gradient of 'a' holds inf at element {}",
            n - 2
        )),
        "{e}"
    );
}

/// Steps large enough to be split across threads, where the check's pieces tell the
/// update which to take first: a bad element anywhere (the first piece of the first
/// tensor, a middle one, the last piece of the last tensor) refuses the whole step and
/// changes nothing, and good steps give the same bits on any number of threads.
#[test]
fn refused_steps_split_across_threads_change_nothing() {
    let sizes = [70_001, 3, 300_000, 131_072];
    let tensors = |seed: f32| -> Params<f32> {
        sizes
            .iter()
            .enumerate()
            .map(|(t, &n)| {
                let v = (0..n)
                    .map(|i| ((i * 7 + t) % 101) as f32 * 0.01 * seed - 0.5)
                    .collect();
                (format!("t{t}"), Tensor::vector(v))
            })
            .collect()
    };
    let bits32 = |p: &Params<f32>| -> Vec<u32> {
        p.iter()
            .flat_map(|(_, t)| t.data().iter().map(|x| x.to_bits()))
            .collect()
    };
    let last = sizes.len() - 1;
    let places = [(0, 0), (2, 150_001), (last, sizes[last] - 1)];
    let mut reference: Option<(Vec<u32>, Vec<u8>)> = None;
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for spec in ["adam:lr=0.01", "sgd:lr=0.1"] {
            pool.install(|| {
                let mut opt = registry::parse::<f32>(spec, Convention::Article).unwrap();
                let mut p = tensors(1.0);
                opt.update(&mut p, &tensors(0.3)).unwrap();
                let (moved, state) = (bits32(&p), opt.save_state().unwrap());
                for &(t, i) in &places {
                    for bad in [f32::NAN, f32::INFINITY] {
                        let mut g = tensors(0.7);
                        g.get_mut(&format!("t{t}")).unwrap().data_mut()[i] = bad;
                        let e = opt.update(&mut p, &g).unwrap_err().to_string();
                        assert!(
                            e.starts_with(&format!(
                                "the gradient of 't{t}' holds {bad} at element {i} "
                            )),
                            "{spec}, {threads} threads: {e}"
                        );
                        assert!(bits32(&p) == moved, "{spec}, {threads} threads, ({t}, {i})");
                        assert!(
                            opt.save_state().unwrap() == state,
                            "{spec}, {threads} threads"
                        );
                    }
                }
                opt.update(&mut p, &tensors(0.7)).unwrap();
                if spec.starts_with("adam") {
                    let got = (bits32(&p), opt.save_state().unwrap());
                    match &reference {
                        None => reference = Some(got),
                        Some(r) => assert!(*r == got, "{threads} threads gave other bits"),
                    }
                }
            });
        }
    }
}
