//! The engine's speed-ups never change a result: every instruction set and every thread
//! count gives bit-identical parameters and state, for elementwise and tensor-level
//! rules.

use optimist::engine::kernel::{set_isa, Isa};
use optimist::{registry, Optimizer, Param};

/// Three steps of `spec` on tensors large enough to be split across threads, with a
/// tail that is not a multiple of any vector width; returns every parameter's bits.
fn run(spec: &str) -> Vec<u64> {
    let shapes = [vec![300_001usize], vec![17], vec![129, 3], vec![3, 200, 70]];
    let mut values: Vec<Vec<f64>> = shapes
        .iter()
        .map(|s| {
            (0..s.iter().product::<usize>())
                .map(|i| ((i * 7919) % 1000) as f64 / 250.0 - 2.0)
                .collect()
        })
        .collect();
    let names = ["a", "b", "c", "d"];
    let mut opt: Box<dyn Optimizer<f64>> =
        registry::parse(spec, optimist::Convention::Article).unwrap();
    for step in 0..3 {
        let grads: Vec<Vec<f64>> = values
            .iter()
            .map(|v| {
                v.iter()
                    .map(|x| 0.3 * x + (x * 3.0 + step as f64).cos())
                    .collect()
            })
            .collect();
        let mut views: Vec<Param<'_, f64>> = values
            .iter_mut()
            .zip(&grads)
            .zip(&shapes)
            .zip(names)
            .map(|(((value, grad), shape), name)| Param {
                name,
                shape,
                value,
                grad,
            })
            .collect();
        opt.step(&mut views).unwrap();
    }
    values.iter().flatten().map(|x| x.to_bits()).collect()
}

/// The article's optimizers, and tensor-level ones whose passes and reductions (norms,
/// row and column means) are split into pieces too.
const SPECS: [&str; 8] = [
    "sgd:lr=0.1",
    "momentum:lr=0.1",
    "nesterov:lr=0.1",
    "adagrad:lr=0.1",
    "rmsprop:lr=0.1",
    "adam:lr=0.1",
    "adafactor:lr=0.1,weight_decay=0.1",
    "lamb:learning_rate=0.1,weight_decay=0.01",
];

#[test]
fn same_bits_with_any_thread_count_and_instruction_set() {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    for spec in SPECS {
        assert!(set_isa(Isa::Scalar));
        let reference = pool(1).install(|| run(spec));
        for isa in Isa::available() {
            assert!(set_isa(isa));
            for threads in [1, 2, 3] {
                let got = pool(threads).install(|| run(spec));
                let same = got == reference;
                assert!(
                    same,
                    "{spec}: {isa:?} with {threads} threads differs from one scalar thread"
                );
            }
        }
    }
    set_isa(Isa::best());
}

/// Moments of a gradient that stays zero decay towards zero; the engine stores them as
/// exact zeros once they would be subnormal, and leaves normal values alone.
#[test]
fn state_never_holds_subnormal_values() {
    use optimist::{optim::Momentum, Elementwise};
    let mut opt = Elementwise::<f32, _>::new(Momentum {
        lr: 0.1,
        momentum: 0.5,
    })
    .unwrap();
    let shape = [2usize];
    let mut p = [0.0f32, 0.0];
    // One real gradient, then zeros: the velocity halves each step.
    for step in 0..200 {
        let g = if step == 0 {
            [1.0f32, 1e-30]
        } else {
            [0.0, 0.0]
        };
        opt.step(&mut [Param {
            name: "p",
            shape: &shape,
            value: &mut p,
            grad: &g,
        }])
        .unwrap();
        for &v in &opt.state().tensors[0].slots[0] {
            assert!(
                v == 0.0 || v.abs() >= f32::MIN_POSITIVE,
                "step {step}: subnormal {v:e}"
            );
        }
    }
    let v = &opt.state().tensors[0].slots[0];
    assert_eq!(v, &[0.0, 0.0]);
    // A normal value is untouched: after one step the velocity is exactly −lr·g.
    let mut fresh = Elementwise::<f32, _>::new(Momentum {
        lr: 0.1,
        momentum: 0.5,
    })
    .unwrap();
    let mut q = [0.0f32];
    fresh
        .step(&mut [Param {
            name: "q",
            shape: &[1],
            value: &mut q,
            grad: &[2e-37],
        }])
        .unwrap();
    assert_eq!(fresh.state().tensors[0].slots[0][0], -0.1f32 * 2e-37);
}

/// Muon's matrix products are cut into blocks of rows shared among threads; each
/// element is computed the same way in any block, so the thread count changes no bit.
/// (Its products use matrixmultiply's kernels, which pick their own instruction set:
/// `OPTIMIST_ISA` does not apply to them.)
#[test]
fn muon_gives_the_same_bits_with_any_thread_count() {
    let run = || {
        let shapes = [vec![300usize, 700], vec![64, 48]];
        let mut values: Vec<Vec<f32>> = shapes
            .iter()
            .map(|s| {
                (0..s[0] * s[1])
                    .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
                    .collect()
            })
            .collect();
        let mut opt = registry::build_in::<f32>(
            &"muon:lr=0.02".parse().unwrap(),
            optimist::Convention::PyTorch,
        )
        .unwrap();
        for step in 0..2 {
            let grads: Vec<Vec<f32>> = values
                .iter()
                .map(|v| v.iter().map(|x| (x * 3.0 + step as f32).sin()).collect())
                .collect();
            let mut views: Vec<Param<'_, f32>> = values
                .iter_mut()
                .zip(&grads)
                .zip(&shapes)
                .zip(["w", "v"])
                .map(|(((value, grad), shape), name)| Param {
                    name,
                    shape,
                    value,
                    grad,
                })
                .collect();
            opt.step(&mut views).unwrap();
        }
        values
            .iter()
            .flatten()
            .map(|x| x.to_bits())
            .collect::<Vec<u32>>()
    };
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(run);
    for threads in [2, 3] {
        assert!(
            pool(threads).install(run) == one,
            "{threads} threads differ from one"
        );
    }
}
