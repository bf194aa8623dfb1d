//! The cost of checking gradients for NaN and infinities: the update step with the
//! default policy (refuse) against trusting the gradients (no check), and the check
//! alone, in float32.
//!
//! `cargo bench -p optimist --bench nonfinite` (all sizes), or with arguments:
//! `cargo bench -p optimist --bench nonfinite -- 16m adam`.

use optimist::engine::first_nonfinite;
use optimist::{registry, NonFinite, Optimizer, Param};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [(&str, usize); 3] = [("110k", 109_810), ("16m", 1 << 24), ("64m", 1 << 26)];

const OPTIMIZERS: [&str; 3] = ["sgd:lr=0.01", "adam:lr=0.001", "adamw:lr=0.001"];

/// The fastest of repeated calls of `f` over about `budget`.
fn best_time(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
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

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |label: &str, all: &[&str]| {
        let named: Vec<&String> = args
            .iter()
            .filter(|a| all.iter().any(|l| l.starts_with(a.as_str())))
            .collect();
        named.is_empty() || named.iter().any(|a| label.starts_with(a.as_str()))
    };
    let sizes: Vec<&str> = SIZES.iter().map(|s| s.0).collect();
    let budget = Duration::from_millis(600);
    println!(
        "non-finite check, float32, {} threads, {} (ns/param: lower is better; check: the check alone)",
        rayon::current_num_threads(),
        optimist::engine::kernel::isa().name()
    );
    for (label, n) in SIZES {
        if !wanted(label, &sizes) {
            continue;
        }
        let mut value: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.01 - 0.5).collect();
        let grad: Vec<f32> = value.iter().map(|x| 0.1 * x + 0.01).collect();
        let shape = [n];
        let check = best_time(budget, || {
            black_box(first_nonfinite::<f32>(&[black_box(&grad)]));
        });
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool");
        let check_one = one.install(|| {
            best_time(budget, || {
                black_box(first_nonfinite::<f32>(&[black_box(&grad)]));
            })
        });
        let ns = |t: Duration| t.as_secs_f64() * 1e9 / n as f64;
        println!(
            "\n{n} parameters: check {:.3} ns/param ({:.1} GB/s of gradient), on one thread {:.3} ns/param",
            ns(check),
            4.0 / ns(check),
            ns(check_one)
        );
        println!(
            "{:<20} {:>14} {:>14} {:>10}",
            "optimizer", "refuse ns/p", "trust ns/p", "cost"
        );
        for spec in OPTIMIZERS {
            if !wanted(spec, &OPTIMIZERS) {
                continue;
            }
            let mut time = |policy: NonFinite| {
                let mut opt: Box<dyn Optimizer<f32>> =
                    registry::parse(spec, optimist::Convention::Article).expect("builds");
                opt.set_nonfinite(policy)
                    .expect("engine optimizers take a policy");
                ns(best_time(budget, || {
                    let mut views = [Param {
                        name: "w",
                        shape: &shape,
                        value: &mut value,
                        grad: &grad,
                    }];
                    opt.step(&mut views).expect("finite gradients");
                }))
            };
            let (refuse, trust) = (time(NonFinite::Refuse), time(NonFinite::Trust));
            println!(
                "{spec:<20} {refuse:>14.3} {trust:>14.3} {:>9.1}%",
                100.0 * (refuse / trust - 1.0)
            );
        }
    }
}
