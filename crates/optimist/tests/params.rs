//! Parameters that come and go, as in PyTorch: a step may leave a tensor out (frozen,
//! or no gradient this step), which keeps its values, state and own step count; a name
//! seen for the first time gets fresh state; a known name with another shape is an
//! error that changes nothing; a step without tensors changes nothing.

use optimist::clip::{Clip, Clipped};
use optimist::groups::Grouped;
use optimist::schedule::{Schedule, Scheduled};
use optimist::{registry, Convention, Error, Optimizer, Param};

/// Every optimizer of the catalog in its own convention, with a learning rate small
/// enough for every one of them.
fn every_optimizer() -> Vec<(String, Box<dyn Optimizer<f64>>)> {
    registry::catalog()
        .into_iter()
        .map(|info| {
            let convention: Convention = info.convention.parse().unwrap();
            let spec = info.name.parse().unwrap();
            let opt = registry::build_in::<f64>(&spec, convention).unwrap();
            (format!("{} ({})", info.name, info.convention), opt)
        })
        .collect()
}

/// Three tensors: two matrices (Muon updates only those) and a third matrix.
const SHAPES: [[usize; 2]; 3] = [[3, 4], [2, 3], [4, 2]];
const NAMES: [&str; 3] = ["a", "b", "c"];

fn initial(i: usize) -> Vec<f64> {
    let n = SHAPES[i][0] * SHAPES[i][1];
    (0..n)
        .map(|j| (((j + 3 * i) * 7919) % 200) as f64 / 100.0 - 1.0)
        .collect()
}

fn grad(x: &[f64], step: usize) -> Vec<f64> {
    x.iter()
        .map(|x| 0.3 * x + (3.0 * x + step as f64).cos())
        .collect()
}

/// One step over the tensors `which` of `values`.
fn step(
    opt: &mut dyn Optimizer<f64>,
    values: &mut [Vec<f64>],
    which: &[usize],
    k: usize,
) -> Result<(), Error> {
    let grads: Vec<Vec<f64>> = values.iter().map(|v| grad(v, k)).collect();
    let mut views: Vec<Param<'_, f64>> = values
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| which.contains(i))
        .map(|(i, v)| Param {
            name: NAMES[i],
            shape: &SHAPES[i],
            value: v,
            grad: &grads[i],
        })
        .collect();
    opt.step(&mut views)
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|x| x.to_bits()).collect()
}

/// Each tensor follows its own steps: a run where tensors are left out of some steps
/// and join late gives each tensor the values of an optimizer that saw only that
/// tensor's steps, to the bit (every optimizer's update of one tensor depends only on
/// that tensor, its state and its own step count).
#[test]
fn each_tensor_follows_its_own_steps() {
    // Which tensors each step updates: `b` misses steps 1 and 2, `c` joins at step 3.
    let plan: [&[usize]; 6] = [&[0, 1], &[0], &[0], &[0, 1, 2], &[1, 2], &[0, 1, 2]];
    let build = |label: &str| {
        every_optimizer()
            .into_iter()
            .find(|(l, _)| l == label)
            .unwrap()
            .1
    };
    for (label, mut opt) in every_optimizer() {
        let mut values: Vec<Vec<f64>> = (0..3).map(initial).collect();
        for (k, which) in plan.iter().enumerate() {
            let before = values.clone();
            step(opt.as_mut(), &mut values, which, k).unwrap_or_else(|e| panic!("{label}: {e}"));
            for i in (0..3).filter(|i| !which.contains(i)) {
                assert_eq!(bits(&values[i]), bits(&before[i]), "{label}: {i} moved");
            }
        }
        assert_eq!(opt.steps(), plan.len() as u64, "{label}");
        for i in 0..3 {
            let mut alone = build(&label);
            let mut own: Vec<Vec<f64>> = (0..3).map(initial).collect();
            for (k, which) in plan.iter().enumerate() {
                if which.contains(&i) {
                    step(alone.as_mut(), &mut own, &[i], k).unwrap();
                }
            }
            assert_eq!(
                bits(&values[i]),
                bits(&own[i]),
                "{label}: tensor {}",
                NAMES[i]
            );
        }
    }
}

/// The wrappers follow the tensors their optimizer sees: a schedule advances once per
/// step that updated something, clipping applies to the tensors given, groups route
/// each tensor whenever it comes.
#[test]
fn wrappers_follow_tensors_that_come_and_go() {
    let wrapped = || -> Vec<Box<dyn Optimizer<f64>>> {
        let adam = || {
            registry::build_in::<f64>(&"adam:lr=0.05".parse().unwrap(), Convention::PyTorch)
                .unwrap()
        };
        let schedule: Schedule = "steplr:step_size=2,gamma=0.5".parse().unwrap();
        let clip: Clip = "clip_grad_value:clip_value=0.5".parse().unwrap();
        vec![
            Box::new(Scheduled::new(adam(), schedule).unwrap()),
            Box::new(Clipped::new(adam(), clip)),
            Box::new(
                Grouped::build(
                    &"adam:lr=0.05".parse().unwrap(),
                    // (The first step must give a tensor of each group: a pattern that
                    // matches none then is taken for a misspelling.)
                    &["b:lr=0.01".parse().unwrap()],
                    Convention::PyTorch,
                )
                .unwrap(),
            ),
        ]
    };
    for mut opt in wrapped() {
        let label = opt.label();
        let mut values: Vec<Vec<f64>> = (0..3).map(initial).collect();
        // An empty step first: it counts for nothing and breaks nothing.
        step(opt.as_mut(), &mut values, &[], 0).unwrap();
        assert_eq!(opt.steps(), 0, "{label}");
        let plan: [&[usize]; 4] = [&[0, 1], &[0], &[0, 1, 2], &[]];
        for (k, which) in plan.iter().enumerate() {
            let before = values.clone();
            step(opt.as_mut(), &mut values, which, k).unwrap_or_else(|e| panic!("{label}: {e}"));
            for i in (0..3).filter(|i| !which.contains(i)) {
                assert_eq!(bits(&values[i]), bits(&before[i]), "{label}");
            }
        }
        assert_eq!(opt.steps(), 3, "{label}");
        // Saved and loaded, the per-tensor counts come back: the next step is the same.
        let bytes = opt.save_state().unwrap();
        let mut resumed = wrapped().into_iter().find(|o| o.label() == label).unwrap();
        resumed.load_state(&bytes).unwrap();
        let mut copy = values.clone();
        step(opt.as_mut(), &mut values, &[1, 2], 4).unwrap();
        step(resumed.as_mut(), &mut copy, &[1, 2], 4).unwrap();
        assert_eq!(
            values.iter().map(|v| bits(v)).collect::<Vec<_>>(),
            copy.iter().map(|v| bits(v)).collect::<Vec<_>>(),
            "{label}"
        );
    }
}

/// A step without tensors is no step: the next real one is the first, for every
/// optimizer (it used to count, then refuse every tensor as new).
#[test]
fn an_empty_step_changes_nothing() {
    for (label, mut opt) in every_optimizer() {
        let fresh = opt.save_state().unwrap();
        let mut values: Vec<Vec<f64>> = (0..3).map(initial).collect();
        step(opt.as_mut(), &mut values, &[], 0).unwrap();
        assert_eq!(opt.steps(), 0, "{label}");
        assert_eq!(opt.save_state().unwrap(), fresh, "{label}");
        step(opt.as_mut(), &mut values, &[0, 1, 2], 0).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(opt.steps(), 1, "{label}");
    }
}

/// A known name with another shape, or a name given twice, is an error before anything
/// changes, also when new tensors come in the same step.
#[test]
fn a_known_name_with_another_shape_is_an_error_that_changes_nothing() {
    for (label, mut opt) in every_optimizer() {
        let mut values: Vec<Vec<f64>> = (0..3).map(initial).collect();
        step(opt.as_mut(), &mut values, &[0, 1], 0).unwrap();
        let saved = opt.save_state().unwrap();
        let before = values.clone();
        let grads: Vec<Vec<f64>> = values.iter().map(|v| grad(v, 1)).collect();
        let (first, rest) = values.split_at_mut(1);
        let (second, third) = rest.split_at_mut(1);
        let mut views = [
            Param {
                name: "c",
                shape: &SHAPES[2],
                value: &mut third[0],
                grad: &grads[2],
            },
            Param {
                name: "a",
                shape: &[4, 3],
                value: &mut first[0],
                grad: &grads[0],
            },
        ];
        let e = opt.step(&mut views).unwrap_err().to_string();
        assert!(
            e.contains("parameter 'a' has shape [4, 3] but its state has shape [3, 4]"),
            "{label}: {e}"
        );
        let mut twice = [
            Param {
                name: "c",
                shape: &SHAPES[2],
                value: &mut third[0],
                grad: &grads[2],
            },
            Param {
                name: "c",
                shape: &SHAPES[1],
                value: &mut second[0],
                grad: &grads[1],
            },
        ];
        let e = opt.step(&mut twice).unwrap_err().to_string();
        assert!(e.contains("parameter 'c' is given twice"), "{label}: {e}");
        assert_eq!(values, before, "{label}");
        assert_eq!(opt.save_state().unwrap(), saved, "{label}");
    }
}

/// Shapes whose number of elements overflows are an error, never a wrapped product
/// (Muon read out of bounds, Adafactor panicked).
#[test]
fn shapes_that_overflow_are_an_error() {
    let e = optimist::Tensor::new([2, (1usize << 63) + 1], vec![0.5f64; 2]).unwrap_err();
    assert!(matches!(e, Error::ShapeOverflow { .. }), "{e}");
    for shape in [
        vec![2, (1usize << 63) + 1],
        vec![1 << 40, 0, 1 << 40],
        vec![0, 1 << 40, 1 << 40],
    ] {
        for (label, mut opt) in every_optimizer() {
            let n = if shape.contains(&0) { 0 } else { 2 };
            let (mut value, grad) = (vec![0.5f64; n], vec![0.25f64; n]);
            let e = opt.step(&mut [Param {
                name: "w",
                shape: &shape,
                value: &mut value,
                grad: &grad,
            }]);
            // An empty tensor of a huge shape may be updated (there is nothing to do),
            // or refused; never a panic.
            if n > 0 || e.is_err() {
                let e = e.unwrap_err();
                assert!(
                    matches!(
                        e,
                        Error::ShapeOverflow { .. }
                            | Error::ShapeData { .. }
                            | Error::Unsupported { .. }
                    ),
                    "{label} {shape:?}: {e}"
                );
            }
        }
    }
}
