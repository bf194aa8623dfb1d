//! One AdamW step over candle vars: optimist-candle against candle_nn's `AdamW`, side by
//! side in one run, at the book's network (110 K parameters in ten tensors) and at 16 M
//! (one 4096 × 4096 matrix), in f32, with the optimist engine's own step over plain
//! slices as the floor the adapter adds to.
//!
//! `cargo bench -p optimist-candle --bench step` (both sizes), or
//! `cargo bench -p optimist-candle --bench step -- 110k` (one).

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer as _, ParamsAdamW};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The book's network (784 → 100 → 100 → 100 → 100 → 10) in candle_nn's Linear layout
/// (`[out, in]` weights).
fn book_network() -> Vec<Vec<usize>> {
    let sizes = [784, 100, 100, 100, 100, 10];
    let mut shapes = Vec::new();
    for w in sizes.windows(2) {
        shapes.push(vec![w[1], w[0]]);
        shapes.push(vec![w[1]]);
    }
    shapes
}

/// Values in (−scale, scale), fixed by `seed` (a cheap hash: no dependency).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let mut z = (i ^ (seed << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z ^= z >> 31;
            z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Vars of the given shapes, and a gradient store with a gradient for each.
fn vars_and_grads(shapes: &[Vec<usize>]) -> (Vec<Var>, GradStore) {
    let mut grads = GradStore::default();
    let vars = shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            let n = shape.iter().product();
            let var = Var::from_vec(values(n, i as u64, 0.1), shape.as_slice(), &Device::Cpu)
                .expect("a var");
            let g = Tensor::from_vec(
                values(n, 100 + i as u64, 1e-2),
                shape.as_slice(),
                &Device::Cpu,
            )
            .expect("a gradient");
            grads.insert(&var, g);
            var
        })
        .collect();
    (vars, grads)
}

/// Seconds per call of `step`: the median of rounds of at least `round` each.
fn time(rounds: usize, round: Duration, mut step: impl FnMut()) -> f64 {
    step(); // state created, caches warm
    let mut calls = 1;
    let start = Instant::now();
    step();
    while start.elapsed() * calls < round {
        calls *= 2;
    }
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                step();
            }
            start.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[rounds / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sizes = [("110k", book_network()), ("16m", vec![vec![4096, 4096]])];
    println!(
        "AdamW (lr 1e-3, weight decay 0.01), f32, one step over every var, {} rayon threads; \
         median of 7 rounds",
        rayon::current_num_threads()
    );
    println!(
        "{:>5} {:>10}  {:<26} {:<26} {:<28} optimist-candle's speed-up",
        "size", "parameters", "engine alone", "optimist-candle", "candle_nn AdamW",
    );
    for (label, shapes) in sizes {
        if !args.is_empty() && !args.iter().any(|a| a == label) {
            continue;
        }
        let n: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
        let round = Duration::from_millis(300);

        // The engine alone, over slices it owns.
        let names: Vec<String> = (0..shapes.len()).map(|i| format!("var{i}")).collect();
        let mut p: Vec<Vec<f32>> = (0..shapes.len())
            .map(|i| values(shapes[i].iter().product(), i as u64, 0.1))
            .collect();
        let g: Vec<Vec<f32>> = (0..shapes.len())
            .map(|i| values(shapes[i].iter().product(), 100 + i as u64, 1e-2))
            .collect();
        let config = optimist_candle::Config::parse("adamw:lr=1e-3,weight_decay=0.01")
            .expect("the spec parses");
        let mut engine = config.build::<f32>().expect("adamw builds");
        let engine_s = time(7, round, || {
            let mut params: Vec<optimist::Param<'_, f32>> = p
                .iter_mut()
                .zip(&g)
                .zip(&names)
                .zip(&shapes)
                .map(|(((value, grad), name), shape)| optimist::Param {
                    name,
                    shape,
                    value,
                    grad,
                })
                .collect();
            engine.step(&mut params).expect("a step");
        });
        drop((p, g, engine));

        let (vars, grads) = vars_and_grads(&shapes);
        let mut ours = optimist_candle::Optimizer::new(vars.clone(), config).expect("optimizer");
        let ours_s = time(7, round, || ours.step(black_box(&grads)).expect("a step"));
        drop((ours, vars, grads));

        let (vars, grads) = vars_and_grads(&shapes);
        let params = ParamsAdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        };
        let mut theirs = AdamW::new(vars.clone(), params).expect("AdamW");
        let theirs_s = time(7, round, || theirs.step(black_box(&grads)).expect("a step"));
        assert_eq!(vars[0].dtype(), DType::F32);

        let show = |s: f64| format!("{:.3} ms ({:.2} ns/param)", s * 1e3, s * 1e9 / n as f64);
        println!(
            "{label:>5} {n:>10}  {:<26} {:<26} {:<28} {:.1}x",
            show(engine_s),
            show(ours_s),
            show(theirs_s),
            theirs_s / ours_s
        );
    }
}
