//! One training iteration of the book's MNIST network (784 → 100 ×4 → 10, batch 128,
//! f32): forward, backward and Adam update. Prints the time per iteration with
//! `matrixmultiply` and with the naive triple loop, measured in the same run, and
//! their ratio.
//!
//! `cargo bench -p optimist-lab --bench mnist_iteration`; set `OPTIMIST_MNIST_DIR` to a
//! folder with the MNIST files to use real images (default: data/mnist, else
//! /work/shared/data/mnist, else synthetic images of MNIST's sparsity).

use optimist_lab::mnist;
use optimist_lab::network::{Kernel, Mlp};
use optimist_lab::rng::SplitMix64;
use std::time::{Duration, Instant};

const SIZES: [usize; 6] = [784, 100, 100, 100, 100, 10];
const BATCH: usize = 128;

/// A batch of real images if a folder has them, otherwise synthetic ones.
fn batch(rng: &mut SplitMix64) -> (Vec<f32>, Vec<u8>, String) {
    let dirs: Vec<std::path::PathBuf> = std::env::var_os("OPTIMIST_MNIST_DIR")
        .map(|d| vec![d.into()])
        .unwrap_or_else(|| vec!["data/mnist".into(), "/work/shared/data/mnist".into()]);
    for dir in dirs {
        if let Ok(set) = mnist::load(&dir) {
            let data = set.train.unwrap_or(set.test);
            let idx: Vec<usize> = (0..BATCH)
                .map(|_| rng.below(data.len() as u64) as usize)
                .collect();
            let (mut x, mut t) = (Vec::new(), Vec::new());
            data.gather(&idx, &mut x, &mut t);
            return (x, t, format!("MNIST images from {}", dir.display()));
        }
    }
    // About 19% of an MNIST image's pixels are non-zero.
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
    (x, t, "synthetic images".into())
}

/// The median time of one iteration over `reps` after `warmup`.
fn time_iterations(kernel: Kernel, x: &[f32], t: &[u8], warmup: usize, reps: usize) -> Duration {
    let mut rng = SplitMix64::new(0);
    let mut net = Mlp::<f32>::he(&SIZES, &mut rng).expect("valid sizes");
    net.set_kernel(kernel);
    let mut adam = optimist::registry::parse::<f32>("adam:lr=0.001").expect("valid spec");
    let mut times = Vec::with_capacity(reps);
    for i in 0..warmup + reps {
        let start = Instant::now();
        let loss = net.loss_and_gradient(x, t).expect("valid batch");
        net.step(adam.as_mut()).expect("matching state");
        let elapsed = start.elapsed();
        assert!(loss.is_finite());
        if i >= warmup {
            times.push(elapsed);
        }
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let mut rng = SplitMix64::new(1);
    let (x, t, source) = batch(&mut rng);
    let blocked = time_iterations(Kernel::Blocked, &x, &t, 200, 2000);
    let naive = time_iterations(Kernel::Naive, &x, &t, 3, 30);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("MNIST network {SIZES:?}, batch {BATCH}, f32, Adam; {source}");
    println!("forward + backward + Adam update, median per iteration:");
    println!("  matrixmultiply:     {:.3} ms", ms(blocked));
    println!("  naive triple loop:  {:.3} ms", ms(naive));
    println!("  speed-up:           {:.1}x", ms(naive) / ms(blocked));
}
