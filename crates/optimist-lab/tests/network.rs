//! The network: hand-computed values, backpropagation against finite differences, the
//! blocked kernels against the triple loop, and errors for bad input.

use optimist_lab::network::{gradient_check, Kernel, Mlp, NetworkError, HALVES_MIN};
use optimist_lab::rng::SplitMix64;

const BOOK: [usize; 6] = [784, 100, 100, 100, 100, 10];

/// A batch of `n` random rows with about a fifth of values non-zero and, like MNIST's
/// border, two columns in seven zero throughout; labels below `classes`.
fn batch(rng: &mut SplitMix64, n: usize, width: usize, classes: usize) -> (Vec<f64>, Vec<u8>) {
    let x = (0..n * width)
        .map(|i| {
            let v = rng.next_f64();
            if i % width % 7 >= 2 && v < 0.2 {
                rng.next_f64()
            } else {
                0.0
            }
        })
        .collect();
    let t = (0..n).map(|_| rng.below(classes as u64) as u8).collect();
    (x, t)
}

#[test]
fn a_tiny_network_gives_the_hand_computed_loss() {
    // x = (1, 2); W1 = [[1, −1], [0.5, 2]], b1 = (0, −1) → h = relu(2, 2) = (2, 2);
    // W2 = [[1, 0], [−1, 1]], b2 = (0.5, 0) → z = (0.5, 2); label 1:
    // loss = −ln(softmax(z)₁ + 1e-7) = 0.20141315566974394 (Python, math.exp/log).
    let mut net = Mlp::<f64>::zeros(&[2, 2, 2]).unwrap();
    net.params_mut().copy_from_slice(&[
        1.0, -1.0, 0.5, 2.0, 0.0, -1.0, 1.0, 0.0, -1.0, 1.0, 0.5, 0.0,
    ]);
    let loss = net.loss(&[1.0, 2.0], &[1]).unwrap();
    assert!((loss - 0.20141315566974394).abs() < 1e-15, "{loss}");
    let scores = net.forward(&[1.0, 2.0]).unwrap();
    assert_eq!(scores, &[0.5, 2.0]);
    let names: Vec<&str> = net.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
}

#[test]
fn backpropagation_matches_central_differences() {
    for seed in 0..3 {
        let mut rng = SplitMix64::new(seed);
        let sizes = [12, 8, 7, 6, 4];
        let mut net = Mlp::<f64>::he(&sizes, &mut rng).unwrap();
        // Non-zero biases, so that their gradients are tested away from the start.
        for t in net.tensors().to_vec() {
            if t.name.starts_with('b') {
                for v in &mut net.params_mut()[t.offset..t.offset + t.len] {
                    *v = 0.1 * rng.normal();
                }
            }
        }
        // A batch taken whole, and one taken in two halves whose gradients are added.
        for rows in [9, HALVES_MIN + 7] {
            let (x, labels) = batch(&mut rng, rows, sizes[0], 4);
            for skip in [true, false] {
                net.set_skip_blank_columns(skip);
                let checks = gradient_check(&mut net, &x, &labels, 1e-5).unwrap();
                assert_eq!(checks.len(), 8);
                for c in &checks {
                    assert!(
                        c.relative_error < 1e-6,
                        "seed {seed}, {rows} rows, skip {skip}, {}: relative error {:e} \
                         (max abs {:e})",
                        c.name,
                        c.relative_error,
                        c.max_abs_difference
                    );
                }
            }
        }
    }
}

#[test]
fn he_initialization_has_the_books_scale() {
    let mut rng = SplitMix64::new(3);
    let net = Mlp::<f32>::he(&BOOK, &mut rng).unwrap();
    for (k, t) in net.tensors().iter().enumerate() {
        let v = &net.params()[t.offset..t.offset + t.len];
        if k % 2 == 1 {
            assert!(v.iter().all(|&b| b == 0.0), "{} is not zero", t.name);
            continue;
        }
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let sd = (v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let want = (2.0 / t.shape[0] as f64).sqrt();
        // With n ≥ 1000 draws the sample sd is within 5% of the true one (> 3 sd).
        assert!(
            (sd / want - 1.0).abs() < 0.05,
            "{}: sd {sd} vs {want}",
            t.name
        );
        assert!(
            mean.abs() < 4.0 * want / n.sqrt(),
            "{}: mean {mean}",
            t.name
        );
    }
}

#[test]
fn blocked_kernels_agree_with_the_triple_loop() {
    let mut rng = SplitMix64::new(11);
    let net64 = Mlp::<f64>::he(&BOOK, &mut rng).unwrap();
    let (x, t) = batch(&mut rng, 64, BOOK[0], 10);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut results = Vec::new();
    for kernel in [Kernel::Blocked, Kernel::Naive] {
        let mut net = net64.cast::<f32>();
        net.set_kernel(kernel);
        let loss = net.loss_and_gradient(&x32, &t).unwrap();
        results.push((f64::from(loss), net.grads().to_vec()));
    }
    // And the f64 network as the reference for both.
    let mut reference = net64.clone();
    let loss64 = reference.loss_and_gradient(&x, &t).unwrap();
    let norm = |g: &[f64]| g.iter().map(|v| v * v).sum::<f64>().sqrt();
    for (loss, grads) in &results {
        assert!((loss - loss64).abs() < 1e-5 * loss64, "{loss} vs {loss64}");
        let diff: Vec<f64> = grads
            .iter()
            .zip(reference.grads())
            .map(|(&a, &b)| f64::from(a) - b)
            .collect();
        let rel = norm(&diff) / norm(reference.grads());
        // f32 rounding over sums of up to 784 terms.
        assert!(rel < 1e-5, "gradient relative error {rel:e}");
    }
}

#[test]
fn one_step_moves_every_tensor_as_the_optimizer_says() {
    let mut rng = SplitMix64::new(5);
    let sizes = [6, 5, 3];
    let mut net = Mlp::<f32>::he(&sizes, &mut rng).unwrap();
    let (x, t) = batch(&mut rng, 4, 6, 3);
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    net.loss_and_gradient(&x, &t).unwrap();
    let before = net.params().to_vec();
    let grads = net.grads().to_vec();
    assert!(grads.iter().all(|g| g.is_finite()) && grads.iter().any(|&g| g != 0.0));
    let mut sgd =
        optimist::registry::parse::<f32>("sgd:lr=0.5", optimist::Convention::Article).unwrap();
    net.step(sgd.as_mut()).unwrap();
    for ((&p, &g), &q) in before.iter().zip(&grads).zip(net.params()) {
        assert_eq!(q, p - g * 0.5);
    }
    let views = net.param_views();
    let shapes: Vec<(&str, Vec<usize>)> =
        views.iter().map(|v| (v.name, v.shape.to_vec())).collect();
    assert_eq!(
        shapes,
        [
            ("W1", vec![6, 5]),
            ("b1", vec![5]),
            ("W2", vec![5, 3]),
            ("b2", vec![3])
        ]
    );
}

#[test]
fn bad_sizes_and_batches_are_errors() {
    let e = Mlp::<f32>::zeros(&[784]).unwrap_err().to_string();
    assert!(
        e.contains("need at least an input and an output width"),
        "{e}"
    );
    let e = Mlp::<f32>::zeros(&[784, 0, 10]).unwrap_err().to_string();
    assert!(e.contains("width 2 is zero"), "{e}");
    let mut net = Mlp::<f32>::zeros(&[3, 2]).unwrap();
    let e = net.loss(&[0.0; 5], &[0]).unwrap_err().to_string();
    assert!(
        e.contains("5 input values are not a positive whole number of rows of 3"),
        "{e}"
    );
    let e = net.loss(&[0.0; 6], &[0]).unwrap_err().to_string();
    assert!(e.contains("2 rows of input but 1 labels"), "{e}");
    let e = net.loss(&[0.0; 3], &[2]).unwrap_err();
    assert!(matches!(e, NetworkError::Batch(_)));
    assert!(
        e.to_string()
            .contains("label 2 at index 0 is not a class 0–1"),
        "{e}"
    );
    assert!(net.loss(&[], &[]).is_err());
}

#[test]
fn one_thread_or_two_give_the_same_bits() {
    let mut rng = SplitMix64::new(21);
    let net = Mlp::<f32>::he(&BOOK, &mut rng).unwrap();
    let (x, t) = batch(&mut rng, 128, BOOK[0], 10);
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut net = net.clone();
            let loss = net.loss_and_gradient(&x, &t).unwrap();
            (loss, net.grads().to_vec())
        })
    };
    let (l1, g1) = run(1);
    let (l2, g2) = run(2);
    assert_eq!(l1.to_bits(), l2.to_bits());
    assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn skipping_blank_columns_changes_only_rounding() {
    let mut rng = SplitMix64::new(8);
    let mut net = Mlp::<f64>::he(&BOOK, &mut rng).unwrap();
    let (x, t) = batch(&mut rng, 128, BOOK[0], 10);
    let mut run = |skip: bool| {
        net.set_skip_blank_columns(skip);
        let loss = net.loss_and_gradient(&x, &t).unwrap();
        let grads = net.grads().to_vec();
        (loss, grads, net.forward(&x).unwrap().to_vec())
    };
    let (l0, g0, s0) = run(false);
    let (l1, g1, s1) = run(true);
    assert!((l0 - l1).abs() < 1e-14 * l0, "{l0} vs {l1}");
    for (a, b) in s0.iter().zip(&s1) {
        assert!((a - b).abs() < 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    for tensor in net.tensors() {
        let r = tensor.offset..tensor.offset + tensor.len;
        let diff: Vec<f64> = g0[r.clone()]
            .iter()
            .zip(&g1[r.clone()])
            .map(|(a, b)| a - b)
            .collect();
        assert!(norm(&diff) <= 1e-12 * norm(&g0[r]), "{}", tensor.name);
    }
    // The blank columns' rows of ∂L/∂W1 are exactly zero.
    for c in (0..BOOK[0]).filter(|c| c % 7 < 2) {
        assert!(g1[c * 100..(c + 1) * 100].iter().all(|&g| g == 0.0));
    }
}
