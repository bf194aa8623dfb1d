//! Properties over any shapes and values, for every optimizer of the registry: a step
//! ends in an error or in finite parameters; a step refused for a NaN or infinite
//! gradient leaves parameters and state bit-identical; a saved state loads back
//! bit-identical and steps on exactly as the original.

use optimist::{registry, Convention, NonFinite, Optimizer, Params, Spec, Tensor};
use proptest::prelude::*;

/// Every optimizer of the registry, freshly built in its own convention.
fn every_optimizer() -> Vec<(String, Box<dyn Optimizer<f64>>)> {
    registry::catalog()
        .into_iter()
        .map(|info| {
            let spec: Spec = info.name.parse().unwrap();
            let convention: Convention = info.convention.parse().unwrap();
            let label = format!("{} ({})", info.name, info.convention);
            let mut opt = registry::build_in::<f64>(&spec, convention).unwrap();
            opt.set_nonfinite(NonFinite::Refuse).unwrap();
            (label, opt)
        })
        .collect()
}

fn bits(p: &Params<f64>) -> Vec<(String, Vec<u64>)> {
    p.iter()
        .map(|(name, t)| {
            (
                name.to_string(),
                t.data().iter().map(|x| x.to_bits()).collect(),
            )
        })
        .collect()
}

fn all_finite(p: &Params<f64>) -> bool {
    p.iter()
        .all(|(_, t)| t.data().iter().all(|x| x.is_finite()))
}

/// A gradient element: mostly ordinary numbers, sometimes huge, tiny, zero or not
/// finite.
fn gradient_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e3..1e3f64,
        1 => prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(1e-300),
            Just(-1e30),
            Just(1e30),
            Just(f64::MIN_POSITIVE),
        ],
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
    ]
}

/// One to three tensors of one or two dimensions (sides 1 to 5): their shapes,
/// starting values and a few steps' gradients.
#[derive(Debug, Clone)]
struct Case {
    shapes: Vec<Vec<usize>>,
    start: Vec<Vec<f64>>,
    grads: Vec<Vec<Vec<f64>>>,
}

fn case(steps: usize) -> impl Strategy<Value = Case> {
    prop::collection::vec(prop::collection::vec(1usize..=5, 1..=2), 1..=3).prop_flat_map(
        move |shapes| {
            let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
            let start = sizes
                .iter()
                .map(|&n| prop::collection::vec(-1e3..1e3f64, n))
                .collect::<Vec<_>>();
            let step = sizes
                .iter()
                .map(|&n| prop::collection::vec(gradient_value(), n))
                .collect::<Vec<_>>();
            let grads = prop::collection::vec(step, steps);
            (Just(shapes), start, grads).prop_map(|(shapes, start, grads)| Case {
                shapes,
                start,
                grads,
            })
        },
    )
}

fn params(shapes: &[Vec<usize>], values: &[Vec<f64>]) -> Params<f64> {
    shapes
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (s, v))| (format!("t{i}"), Tensor::new(s.clone(), v.clone()).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A tensor is built exactly when its data fills its shape.
    #[test]
    fn tensors_are_built_when_data_fills_the_shape(
        shape in prop::collection::vec(0usize..6, 0..4),
        data in prop::collection::vec(-1e6..1e6f64, 0..40),
    ) {
        let n: usize = shape.iter().product();
        match Tensor::new(shape.clone(), data.clone()) {
            Ok(t) => {
                prop_assert_eq!(n, data.len());
                prop_assert_eq!(t.shape(), &shape[..]);
                prop_assert_eq!(t.data(), &data[..]);
            }
            Err(e) => {
                prop_assert_ne!(n, data.len());
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// Each step is an error or finite parameters; a refused step changes nothing.
    #[test]
    fn steps_end_finite_or_refused_without_a_trace(case in case(3)) {
        for (label, mut opt) in every_optimizer() {
            let mut p = params(&case.shapes, &case.start);
            for g in &case.grads {
                let grads = params(&case.shapes, g);
                let finite = g.iter().flatten().all(|x| x.is_finite());
                let (before, state) = (bits(&p), opt.save_state().unwrap());
                match opt.update(&mut p, &grads) {
                    Ok(()) => {
                        prop_assert!(finite, "{}: a non-finite gradient was accepted", label);
                        prop_assert!(all_finite(&p), "{}: non-finite parameters {:?}", label, bits(&p));
                    }
                    Err(e) => {
                        prop_assert!(!e.to_string().is_empty());
                        prop_assert_eq!(&bits(&p), &before, "{}: {}", label, e);
                        prop_assert!(opt.save_state().unwrap() == state, "{}: state changed by {}", label, e);
                    }
                }
            }
        }
    }

    /// Saved after some steps and loaded into a new optimizer, the state is the same
    /// bytes, and the next step gives the same bits.
    #[test]
    fn save_then_load_is_bit_identical(case in case(3)) {
        let finite: Vec<Vec<Vec<f64>>> = case
            .grads
            .iter()
            .map(|step| {
                step.iter()
                    .map(|t| t.iter().map(|&x| if x.is_finite() { x } else { 0.5 }).collect())
                    .collect()
            })
            .collect();
        for ((label, mut opt), (_, mut fresh)) in every_optimizer().into_iter().zip(every_optimizer()) {
            let mut p = params(&case.shapes, &case.start);
            let mut ok = true;
            for g in &finite[..2] {
                ok &= opt.update(&mut p, &params(&case.shapes, g)).is_ok();
            }
            if !ok {
                // Shapes this optimizer does not take (e.g. Muon's matrices only).
                continue;
            }
            let saved = opt.save_state().unwrap();
            fresh.load_state(&saved).unwrap();
            prop_assert!(fresh.save_state().unwrap() == saved, "{}: resaved state differs", label);
            let mut q = p.clone();
            let last = params(&case.shapes, &finite[2]);
            let a = opt.update(&mut p, &last).is_ok();
            let b = fresh.update(&mut q, &last).is_ok();
            prop_assert_eq!(a, b, "{}", label);
            prop_assert_eq!(bits(&p), bits(&q), "{}: the loaded state steps differently", label);
        }
    }
}
