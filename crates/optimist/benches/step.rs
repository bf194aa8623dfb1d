//! The update step's speed: ns per parameter and GB/s for each optimizer, in float32,
//! next to the machine's memory bandwidth measured in the same run (copy and triad),
//! so that each optimizer's fraction of the bandwidth bound is printed.
//!
//! `cargo bench -p optimist --bench step` (all sizes), or with arguments:
//! `cargo bench -p optimist --bench step -- 110k 16m` and/or optimizer names, or
//! `all` for every optimizer of the library at its defaults (tensor-level rules
//! against the least traffic their reductions allow).

use optimist::engine::kernel::{self, Isa};
use optimist::{registry, Convention, NonFinite, Optimizer, Param};
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

/// The optimizers of the table, at the learning rates of the book's network.
const OPTIMIZERS: &[&str] = &[
    "sgd:lr=0.01",
    "momentum:lr=0.01",
    "adam:lr=0.001",
    "adamw:lr=0.001",
    "lion:learning_rate=0.0001",
    "adagrad:lr=0.01",
    "rmsprop:lr=0.01",
];

/// Tensor-level rules and the least traffic their update can have, in bytes per
/// float32 parameter, as (read only, read and written): reductions over the whole
/// tensor (norms, row and column means) must be read before any element changes, so
/// they cannot run in the pass that writes. A pass that only reads is bound by the
/// `read` bandwidth, one that writes by the `update` bandwidth.
/// - lamb: one pass reads p, g, m, v and writes m, v (for ‖p‖ and ‖u‖), a second
///   reads p and the update and writes p: 40 bytes read and written (one pass would
///   be 28).
/// - adafactor on a matrix: one pass reads p and g (RMS(p), row and column means of
///   g², and the sums that give RMS(u)), one reads p and g and writes p: 8 bytes read
///   only, 12 read and written.
const TENSOR_RULES: &[(&str, Traffic)] = &[
    (
        "lamb",
        Traffic {
            read_only: 0,
            read_write: 40,
        },
    ),
    (
        "adafactor",
        Traffic {
            read_only: 8,
            read_write: 12,
        },
    ),
];

/// Bytes per float32 parameter an update moves in passes that only read, and in
/// passes that read and write.
#[derive(Debug, Clone, Copy)]
struct Traffic {
    read_only: usize,
    read_write: usize,
}

impl Traffic {
    fn total(self) -> usize {
        self.read_only + self.read_write
    }

    /// The least time per parameter at the `read` and `update` bandwidths (GB/s).
    fn bound(self, read: f64, update: f64) -> f64 {
        self.read_only as f64 / read + self.read_write as f64 / update
    }
}

/// Not measured at these sizes: their step is bound by arithmetic, not memory.
const COMPUTE_BOUND: &[(&str, &str)] = &[(
    "muon",
    "five Newton–Schulz iterations of matrix products: O(n³) for an n × n matrix",
)];

/// Bytes an elementwise rule with `slots` state buffers moves per float32 parameter:
/// it reads the parameter, the gradient and each slot, and writes the parameter and
/// each slot.
fn bytes_per_param(slots: usize) -> Traffic {
    Traffic {
        read_only: 0,
        read_write: 4 * (2 + slots) + 4 * (1 + slots),
    }
}

/// The bytes an elementwise rule with `slots` state buffers reads per parameter when
/// the gradients are checked first, over those it reads unchecked: the check reads
/// the gradient once more. Where reading memory bounds a step, as on machines whose
/// cores keep too few reads in flight to use the memory's bandwidth, this is the least
/// the check can cost while a refused step changes nothing: every gradient must be
/// read before the first value is written, and a step's gradients outgrow the caches.
fn reads_x(slots: usize) -> f64 {
    let reads = 4 * (2 + slots);
    (reads + 4) as f64 / reads as f64
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

/// Memory bandwidth in GB/s, split across threads like the optimizers and vectorized
/// like them: copy and triad by the STREAM conventions (bytes named in the loop; the
/// write-allocate read of the destination not counted), and `update`, the in-place
/// a ← a + s·b that every update step is made of (read, modify, write: no
/// write-allocate), which sets the bound of passes that write, and `read`, a sum of
/// `a` (the faster of a plain loop and one that asks for memory ahead, as the engine's
/// reading passes do), which sets the bound of passes that only read.
///
/// The rows' probes run over arrays twice as long as the step's tensors: `a` and `b`
/// then hold as many bytes as Adam's parameter, gradient and two moments, so that the
/// probe finds no more of its data in the last-level cache than the step does (with
/// arrays only as long as the tensors, a large cache held much of the probe's data,
/// which Adam's four tensors of that length could not, and the bound came out too
/// high).
fn bandwidth(n: usize, budget: Duration) -> Bandwidth {
    use rayon::prelude::*;
    let chunk = (n / (4 * rayon::current_num_threads())).max(1 << 14);
    let mut a = vec![1.0f32; n];
    let b = vec![2.0f32; n];
    let c = vec![0.5f32; n];
    let s = black_box(1e-9f32);
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
                kernel::vectorized(
                    #[inline(always)]
                    || {
                        for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                            *a = b + s * c;
                        }
                    },
                )
            });
        black_box(&mut a);
    });
    let update = best_time(budget, || {
        a.par_chunks_mut(chunk)
            .zip(b.par_chunks(chunk))
            .for_each(|(a, b)| {
                kernel::vectorized(
                    #[inline(always)]
                    || {
                        for (a, &b) in a.iter_mut().zip(b) {
                            *a += s * b;
                        }
                    },
                )
            });
        black_box(&mut a);
    });
    let sum = |ahead: bool| {
        best_time(budget, || {
            let total: f32 = a
                .par_chunks(chunk)
                .map(|a| {
                    kernel::vectorized(
                        #[inline(always)]
                        || {
                            let mut lanes = [0.0f32; 16];
                            for c in a.chunks_exact(16) {
                                if ahead {
                                    kernel::prefetch_ahead(c.as_ptr());
                                }
                                for (l, &x) in lanes.iter_mut().zip(c) {
                                    *l += x;
                                }
                            }
                            lanes.iter().sum::<f32>()
                        },
                    )
                })
                .sum();
            black_box(total);
        })
    };
    let read = sum(false).min(sum(true));
    let gbs = |bytes: usize, t: Duration| bytes as f64 / t.as_secs_f64() / 1e9;
    Bandwidth {
        copy: gbs(8 * n, copy),
        triad: gbs(12 * n, triad),
        update: gbs(12 * n, update),
        read: gbs(4 * n, read),
    }
}

/// Memory bandwidths in GB/s (see [`bandwidth`]).
struct Bandwidth {
    copy: f64,
    triad: f64,
    update: f64,
    read: f64,
}

/// What one row measures.
struct Row {
    /// The name and hyperparameters, as a spec.
    spec: String,
    convention: Convention,
    /// Bytes per parameter of the least traffic; `None`: from the state's size.
    bytes: Option<Traffic>,
}

/// Every optimizer of the library at its defaults (its convention's), but those
/// bound by arithmetic.
fn every_optimizer() -> Vec<Row> {
    registry::catalog()
        .into_iter()
        .filter(|info| !COMPUTE_BOUND.iter().any(|(n, _)| *n == info.name))
        .map(|info| Row {
            spec: info.name.to_string(),
            convention: Convention::ALL
                .into_iter()
                .find(|c| c.name() == info.convention)
                .expect("a known convention"),
            bytes: TENSOR_RULES
                .iter()
                .find(|(n, _)| *n == info.name)
                .map(|&(_, t)| t),
        })
        .collect()
}

/// The number of state values per parameter an optimizer keeps: the size of its
/// saved state after one step over a 2^18-element matrix (the header is far smaller
/// than one value per parameter).
fn state_slots(row: &Row) -> Result<usize, optimist::Error> {
    let n = 1 << 18;
    let mut opt: Box<dyn Optimizer<f32>> = registry::build_in(&row.spec.parse()?, row.convention)?;
    let (mut value, grad) = (vec![0.5f32; n], vec![0.01f32; n]);
    opt.step(&mut [Param {
        name: "w",
        shape: &[512, 512],
        value: &mut value,
        grad: &grad,
    }])?;
    Ok(opt.save_state()?.len() / (4 * n))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Arguments name sizes (110k, 16m, 64m), `all` (every optimizer of the library)
    // and/or optimizers (by prefix); none: every size, the optimizers.
    let size_args: Vec<&String> = args
        .iter()
        .filter(|a| sizes().iter().any(|s| s.label == a.as_str()))
        .collect();
    let all = args.iter().any(|a| a == "all");
    let opt_args: Vec<&String> = args
        .iter()
        .filter(|a| !size_args.contains(a) && a.as_str() != "all")
        .collect();
    let size_wanted =
        |label: &str| size_args.is_empty() || size_args.iter().any(|a| a.as_str() == label);
    let rows: Vec<Row> = if all {
        every_optimizer()
            .into_iter()
            .filter(|r| {
                opt_args.is_empty() || opt_args.iter().any(|a| r.spec.starts_with(a.as_str()))
            })
            .collect()
    } else {
        OPTIMIZERS
            .iter()
            .map(|s| Row {
                spec: s.to_string(),
                convention: Convention::Article,
                bytes: None,
            })
            .filter(|r| {
                opt_args.is_empty() || opt_args.iter().any(|a| r.spec.starts_with(a.as_str()))
            })
            .collect()
    };
    let budget = Duration::from_millis(600);
    println!(
        "optimist update step, float32, {} threads, {}\n\
         ns/param: the default step, which first checks the gradients for NaN and infinities; \
         unchecked: NonFinite::Trust, as torch.optim and optax run (no check); check x: the default step's time over the unchecked one's; reads x: its bytes read over the unchecked step's (the gradient once more), what the check costs where reads bound the step; \
         GB/s, x bound, % bw: of the unchecked step (% bw: the share of the `update` bandwidth it reaches, bound over time); \
         bound: the time its bytes take at the `update` bandwidth (in-place a += s*b), or at the `read` bandwidth (a sum) for passes that only read; \
         threads x: speed-up over one thread; simd x: one vectorized thread over one scalar thread",
        rayon::current_num_threads(),
        Isa::best().name()
    );
    if all {
        for (name, why) in COMPUTE_BOUND {
            println!("not measured: {name}, bound by arithmetic ({why})");
        }
    }
    for size in sizes() {
        if !size_wanted(size.label) {
            continue;
        }
        let n: usize = size
            .shapes
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        let Bandwidth {
            copy,
            triad,
            update,
            read,
        } = bandwidth(2 * n.max(1 << 20), budget);
        println!(
            "\n{} parameters in {} tensor(s): bandwidth copy {copy:.1} GB/s, triad {triad:.1} GB/s, update {update:.1} GB/s, read {read:.1} GB/s",
            n,
            size.shapes.len()
        );
        println!(
            "{:<34} {:>9} {:>10} {:>8} {:>7} {:>7} {:>11} {:>8} {:>6} {:>9} {:>7}",
            "optimizer",
            "ns/param",
            "unchecked",
            "check x",
            "reads x",
            "GB/s",
            "bound ns/p",
            "x bound",
            "% bw",
            "threads x",
            "simd x"
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
        for row in &rows {
            let label = if all {
                format!("{} ({})", row.spec, row.convention.name())
            } else {
                row.spec.clone()
            };
            let traffic = match row.bytes.map_or_else(
                || state_slots(row).map(|slots| (bytes_per_param(slots), reads_x(slots))),
                |t| Ok((t, f64::NAN)),
            ) {
                Ok(t) => t,
                Err(e) => {
                    println!("{label:<34} cannot run: {e}");
                    continue;
                }
            };
            let mut time =
                |isa: Isa, threads: usize, policy: NonFinite| -> Result<f64, optimist::Error> {
                    let mut opt: Box<dyn Optimizer<f32>> =
                        registry::build_in(&row.spec.parse()?, row.convention)?;
                    opt.set_nonfinite(policy)?;
                    kernel::set_isa(isa);
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .expect("a thread pool");
                    let mut failed = None;
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
                            if let Err(e) = opt.step(&mut views) {
                                failed = Some(e);
                            }
                        })
                    });
                    kernel::set_isa(Isa::best());
                    match failed {
                        Some(e) => Err(e),
                        None => Ok(t.as_secs_f64() * 1e9 / n as f64),
                    }
                };
            let threads = rayon::current_num_threads();
            let measured = (|| {
                let checked = time(Isa::best(), threads, NonFinite::Refuse)?;
                let ns = time(Isa::best(), threads, NonFinite::Trust)?;
                if all {
                    return Ok((checked, ns, f64::NAN, f64::NAN));
                }
                let one_thread = time(Isa::best(), 1, NonFinite::Trust)?;
                let scalar = time(Isa::Scalar, 1, NonFinite::Trust)?;
                Ok::<_, optimist::Error>((checked, ns, one_thread / ns, scalar / one_thread))
            })();
            let (checked, ns, threads_x, simd_x) = match measured {
                Ok(m) => m,
                Err(e) => {
                    println!("{label:<34} cannot run: {e}");
                    continue;
                }
            };
            let (traffic, reads_x) = traffic;
            let bound = traffic.bound(read, update);
            let ratio = |x: f64| {
                if x.is_nan() {
                    "-".to_string()
                } else {
                    format!("{x:.2}")
                }
            };
            println!(
                "{label:<34} {checked:>9.3} {ns:>10.3} {:>8.2} {:>7} {:>7.1} {bound:>11.3} {:>8.2} {:>6.0} {:>9} {:>7}",
                checked / ns,
                ratio(reads_x),
                traffic.total() as f64 / ns,
                ns / bound,
                100.0 * bound / ns,
                ratio(threads_x),
                ratio(simd_x)
            );
        }
    }
}
