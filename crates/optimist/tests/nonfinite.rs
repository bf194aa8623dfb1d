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
