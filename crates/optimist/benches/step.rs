//! The update step's speed: ns per parameter and GB/s for each optimizer, in float32,
//! next to the machine's memory bandwidth measured in the same run (copy and triad),
//! so that each optimizer's fraction of the bandwidth bound is printed.
//!
//! `cargo bench -p optimist --bench step` (all sizes), or with arguments:
//! `cargo bench -p optimist --bench step -- 110k 16m` and/or optimizer names.

use optimist::engine::kernel::{self, Isa};
use optimist::{registry, Optimizer, Param};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The book's network (784 → 100 → 100 → 100 → 100 → 10): 109,810 parameters in ten
/// tensors, so that per-tensor overhead shows.
fn book_network() -> Vec<Vec<usize>> {
    let sizes = [784, 100, 100, 100, 100, 10];
    let mut shapes = Vec::new();
    for w in sizes.windows(2) {
        shapes.push(vec![w[0], w[1]]);
        shapes.push(vec![w[1]]);
    }
    shapes
}

struct Size {
    label: &'static str,
    shapes: Vec<Vec<usize>>,
}

fn sizes() -> Vec<Size> {
    vec![
        Size {
            label: "110k",
            shapes: book_network(),
        },
        Size {
            label: "16m",
            shapes: vec![vec![4096, 4096]],
        },
        Size {
            label: "64m",
            shapes: vec![vec![8192, 8192]],
        },
    ]
}

/// Optimizers and the bytes each moves per parameter in float32: it reads the
/// parameter, its gradient and each state slot, and writes the parameter and each slot.
const OPTIMIZERS: &[(&str, usize)] = &[
    ("sgd:lr=0.01", 0),
    ("momentum:lr=0.01", 1),
    ("adam:lr=0.001", 2),
    ("adamw:lr=0.001", 2),
    ("lion:learning_rate=0.0001", 1),
    ("adagrad:lr=0.01", 1),
    ("rmsprop:lr=0.01", 1),
];

fn bytes_per_param(slots: usize) -> usize {
    4 * (2 + slots) + 4 * (1 + slots)
}

/// Runs `f` repeatedly for about `budget`, returning the fastest time of one call.
fn best_time(budget: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm-up: first-touch page faults, state allocation
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < 3 || (start.elapsed() < budget && runs < 10_000) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}

/// Memory bandwidth in GB/s by the STREAM conventions (bytes named in the loop,
/// write-allocate traffic not counted), split across threads like the optimizers.
fn bandwidth(n: usize, budget: Duration) -> (f64, f64) {
    use rayon::prelude::*;
    let chunk = (n / rayon::current_num_threads()).max(1 << 14);
    let mut a = vec![1.0f32; n];
    let b = vec![2.0f32; n];
    let c = vec![0.5f32; n];
    let copy = best_time(budget, || {
        a.par_chunks_mut(chunk)
            .zip(b.par_chunks(chunk))
            .for_each(|(a, b)| a.copy_from_slice(b));
        black_box(&mut a);
    });
    let triad = best_time(budget, || {
        a.par_chunks_mut(chunk)
            .zip(b.par_chunks(chunk))
            .zip(c.par_chunks(chunk))
            .for_each(|((a, b), c)| {
                for i in 0..a.len() {
                    a[i] = b[i] + 3.0 * c[i];
                }
            });
        black_box(&mut a);
    });
    let gbs = |bytes: usize, t: Duration| bytes as f64 / t.as_secs_f64() / 1e9;
    (gbs(8 * n, copy), gbs(12 * n, triad))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Arguments name sizes (110k, 16m, 64m) and/or optimizers (by prefix); none: all.
    let size_args: Vec<&String> = args
        .iter()
        .filter(|a| sizes().iter().any(|s| s.label == a.as_str()))
        .collect();
    let opt_args: Vec<&String> = args.iter().filter(|a| !size_args.contains(a)).collect();
    let size_wanted =
        |label: &str| size_args.is_empty() || size_args.iter().any(|a| a.as_str() == label);
    let opt_wanted =
        |spec: &str| opt_args.is_empty() || opt_args.iter().any(|a| spec.starts_with(a.as_str()));
    let budget = Duration::from_millis(600);
    println!(
        "optimist update step, float32, {} threads, {} (ns/param: lower is better; bound: the time the bytes take at \
         triad bandwidth; threads x: speed-up over one thread; simd x: one vectorized thread over one scalar thread)",
        rayon::current_num_threads(),
        Isa::best().name()
    );
    for size in sizes() {
        if !size_wanted(size.label) {
            continue;
        }
        let n: usize = size
            .shapes
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        let (copy, triad) = bandwidth(n.max(1 << 20), budget);
        println!(
            "\n{} parameters in {} tensor(s): bandwidth copy {copy:.1} GB/s, triad {triad:.1} GB/s",
            n,
            size.shapes.len()
        );
        println!(
            "{:<28} {:>10} {:>8} {:>12} {:>10} {:>10} {:>10}",
            "optimizer", "ns/param", "GB/s", "bound ns/p", "x bound", "threads x", "simd x"
        );
        let mut values: Vec<Vec<f32>> = size
            .shapes
            .iter()
            .map(|s| {
                (0..s.iter().product::<usize>())
                    .map(|i| (i % 97) as f32 * 0.01 - 0.5)
                    .collect()
            })
            .collect();
        let grads: Vec<Vec<f32>> = values
            .iter()
            .map(|v| v.iter().map(|x| 0.1 * x + 0.01).collect())
            .collect();
        let names: Vec<String> = (0..size.shapes.len()).map(|i| format!("t{i}")).collect();
        for &(spec, slots) in OPTIMIZERS {
            if !opt_wanted(spec) {
                continue;
            }
            let mut time = |isa: Isa, threads: usize| -> Option<f64> {
                let mut opt: Box<dyn Optimizer<f32>> = match registry::parse(spec) {
                    Ok(o) => o,
                    Err(e) => {
                        println!("{spec:<28} cannot build: {e}");
                        return None;
                    }
                };
                kernel::set_isa(isa);
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let t = pool.install(|| {
                    best_time(budget, || {
                        let mut views: Vec<Param<'_, f32>> = values
                            .iter_mut()
                            .zip(&grads)
                            .zip(&size.shapes)
                            .zip(&names)
                            .map(|(((value, grad), shape), name)| Param {
                                name,
                                shape,
                                value,
                                grad,
                            })
                            .collect();
                        opt.step(&mut views).expect("step");
                    })
                });
                Some(t.as_secs_f64() * 1e9 / n as f64)
            };
            let threads = rayon::current_num_threads();
            let Some(ns) = time(Isa::best(), threads) else {
                continue;
            };
            let one_thread = time(Isa::best(), 1).unwrap_or(f64::NAN);
            let scalar = time(Isa::Scalar, 1).unwrap_or(f64::NAN);
            kernel::set_isa(Isa::best());
            let bytes = bytes_per_param(slots) as f64;
            let gbs = bytes / ns;
            let bound = bytes / triad;
            println!(
                "{spec:<28} {ns:>10.3} {gbs:>8.1} {bound:>12.3} {:>10.2} {:>10.2} {:>10.2}",
                ns / bound,
                one_thread / ns,
                scalar / one_thread
            );
        }
    }
}
