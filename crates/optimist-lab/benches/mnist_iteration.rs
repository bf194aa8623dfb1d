//! One training iteration of the book's MNIST network (784 → 100 ×4 → 10, batch 128,
//! f32): forward, backward and Adam update, as the experiment runs it (a new batch
//! every iteration, 2000 iterations from He initialization).
//!
//! Prints the median time per iteration with `matrixmultiply` on one thread (also
//! without leaving out the input columns blank throughout a batch) and on all of
//! rayon's threads, and with the naive baseline measured in the same run (textbook
//! triple-loop products over every column), and the ratios. The aim is half of
//! PyTorch's time for the same iteration on the same CPU.
//!
//! `cargo bench -p optimist-lab --bench mnist_iteration`. Real images are used where
//! found (`OPTIMIST_MNIST_DIR`, else the repository's data/mnist), otherwise synthetic
//! ones of MNIST's sparsity (81% zeros).

use optimist_lab::data::mnist;
use optimist_lab::network::{Kernel, Mlp};
use optimist_lab::rng::SplitMix64;
use std::time::{Duration, Instant};

const SIZES: [usize; 6] = [784, 100, 100, 100, 100, 10];
const BATCH: usize = 128;
/// Distinct batches, cycled through: enough that no batch repeats within 50 steps.
const BATCHES: usize = 50;

type Batch = (Vec<f32>, Vec<u8>);

/// Batches of real images if a folder has them, otherwise synthetic ones.
fn batches(rng: &mut SplitMix64) -> (Vec<Batch>, String) {
    let dirs: Vec<std::path::PathBuf> = match std::env::var_os("OPTIMIST_MNIST_DIR") {
        Some(d) => vec![d.into()],
        None => vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist")],
    };
    for dir in dirs {
        if let Ok(set) = mnist::load(&dir) {
            let data = set.train.unwrap_or(set.test);
            let out = (0..BATCHES)
                .map(|_| {
                    let idx: Vec<usize> = (0..BATCH)
                        .map(|_| rng.below(data.len() as u64) as usize)
                        .collect();
                    let (mut x, mut t) = (Vec::new(), Vec::new());
                    data.gather(&idx, &mut x, &mut t);
                    (x, t)
                })
                .collect();
            return (out, format!("MNIST images from {}", dir.display()));
        }
    }
    let out = (0..BATCHES)
        .map(|_| {
            let x = (0..BATCH * SIZES[0])
                .map(|_| {
                    if rng.next_f64() < 0.19 {
                        rng.next_f64() as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            let t = (0..BATCH).map(|_| rng.below(10) as u8).collect();
            (x, t)
        })
        .collect();
    (out, "synthetic images".into())
}

/// Median times of one iteration: the whole, forward and backward, the Adam update.
struct Times {
    iteration: Duration,
    gradient: Duration,
    update: Duration,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Medians over `iterations` from He initialization, on `threads` rayon threads.
fn median_iteration(
    kernel: Kernel,
    skip_blank_columns: bool,
    batches: &[Batch],
    iterations: usize,
    threads: usize,
) -> Times {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let mut rng = SplitMix64::new(0);
        let mut net = Mlp::<f32>::he(&SIZES, &mut rng).expect("valid sizes");
        net.set_kernel(kernel);
        net.set_skip_blank_columns(skip_blank_columns);
        let mut adam =
            optimist::registry::parse::<f32>("adam:lr=0.001", optimist::Convention::Article)
                .expect("valid spec");
        let (mut whole, mut gradient, mut update) = (Vec::new(), Vec::new(), Vec::new());
        let mut x = Vec::new();
        for (batch, t) in batches.iter().cycle().take(iterations) {
            // Untimed, as the experiment's batch is: written just before it is used.
            x.clone_from(batch);
            let start = Instant::now();
            let loss = net.loss_and_gradient(&x, t).expect("valid batch");
            let middle = Instant::now();
            net.step(adam.as_mut()).expect("matching state");
            let end = Instant::now();
            assert!(loss.is_finite());
            whole.push(end - start);
            gradient.push(middle - start);
            update.push(end - middle);
        }
        Times {
            iteration: median(whole),
            gradient: median(gradient),
            update: median(update),
        }
    })
}

fn main() {
    let mut rng = SplitMix64::new(1);
    let (batches, source) = batches(&mut rng);
    let threads = rayon::current_num_threads();
    let one = median_iteration(Kernel::Blocked, true, &batches, 2000, 1);
    let dense = median_iteration(Kernel::Blocked, false, &batches, 2000, 1);
    let all = median_iteration(Kernel::Blocked, true, &batches, 2000, threads);
    let naive = median_iteration(Kernel::Naive, false, &batches, 40, 1);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("MNIST network {SIZES:?}, batch {BATCH}, f32, Adam; {source}");
    println!("forward + backward + Adam update, medians over 2000 iterations (naive: 40):");
    for (name, t) in [
        ("matrixmultiply, 1 thread".to_string(), &one),
        ("  without skipping blank columns".to_string(), &dense),
        (format!("matrixmultiply, {threads} threads"), &all),
        ("naive triple loop, 1 thread".to_string(), &naive),
    ] {
        println!(
            "  {name:<34} {:>7.3} ms/iteration  (forward+backward {:.3} ms, Adam update {:.3} ms)",
            ms(t.iteration),
            ms(t.gradient),
            ms(t.update)
        );
    }
    println!(
        "  naive / matrixmultiply: {:.1}x on 1 thread, {:.1}x on {threads}",
        ms(naive.iteration) / ms(one.iteration),
        ms(naive.iteration) / ms(all.iteration)
    );
}
