//! optimist-candle against candle_nn's own optimizers: a small MLP trained from the same
//! start on the same batches ends with the same parameters.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{AdamW, Linear, Optimizer as _, ParamsAdamW, SGD};

/// A 6-16-12-3 ReLU network's parameters, `[W1, b1, W2, b2, W3, b3]` in candle_nn's
/// Linear layout (`[out, in]`), with fixed pseudo-random values of scale 1/√fan_in.
fn start(dtype: DType) -> Vec<Tensor> {
    let sizes = [6, 16, 12, 3];
    let mut params = Vec::new();
    for (l, w) in sizes.windows(2).enumerate() {
        let (fan_in, out) = (w[0], w[1]);
        let scale = (1.0 / fan_in as f64).sqrt();
        let weights: Vec<f64> = (0..out * fan_in)
            .map(|i| scale * (1.3 * i as f64 + 0.7 * l as f64).sin())
            .collect();
        let biases: Vec<f64> = (0..out).map(|i| 0.1 * (2.1 * i as f64).cos()).collect();
        params.push(Tensor::from_vec(weights, (out, fan_in), &Device::Cpu).unwrap());
        params.push(Tensor::from_vec(biases, out, &Device::Cpu).unwrap());
    }
    params
        .into_iter()
        .map(|t| t.to_dtype(dtype).unwrap())
        .collect()
}

/// Batch `k` of 32 inputs and their classes (0–2).
fn batch(k: usize, dtype: DType) -> (Tensor, Tensor) {
    let x: Vec<f64> = (0..32 * 6)
        .map(|i| (0.37 * i as f64 + 1.9 * k as f64).sin() * 2.0)
        .collect();
    let t: Vec<u32> = (0..32).map(|i| ((i * 7 + k * 3) % 3) as u32).collect();
    let x = Tensor::from_vec(x, (32, 6), &Device::Cpu).unwrap();
    (
        x.to_dtype(dtype).unwrap(),
        Tensor::from_vec(t, 32, &Device::Cpu).unwrap(),
    )
}

/// The network's cross-entropy loss on batch `k`.
fn loss(vars: &[Var], k: usize, dtype: DType) -> Tensor {
    let (mut h, t) = batch(k, dtype);
    for (l, wb) in vars.chunks(2).enumerate() {
        let layer = Linear::new(wb[0].as_tensor().clone(), Some(wb[1].as_tensor().clone()));
        h = layer.forward(&h).unwrap();
        if l < 2 {
            h = h.relu().unwrap();
        }
    }
    candle_nn::loss::cross_entropy(&h, &t).unwrap()
}

/// Trains a fresh copy of the start for 100 steps with `step`, and returns the vars.
fn train(dtype: DType, mut step: impl FnMut(&[Var], &Tensor)) -> Vec<Var> {
    let vars: Vec<Var> = start(dtype)
        .iter()
        .map(|t| Var::from_tensor(t).unwrap())
        .collect();
    for k in 0..100 {
        let loss = loss(&vars, k, dtype);
        step(&vars, &loss);
    }
    vars
}

fn values(var: &Var) -> Vec<f64> {
    var.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The largest difference between the two sets of vars, relative to each tensor's
/// largest magnitude; and how far the parameters moved from the start, likewise.
fn relative_difference(a: &[Var], b: &[Var], dtype: DType) -> (f64, f64) {
    let start = start(dtype);
    let (mut diff, mut moved) = (0f64, 0f64);
    for ((a, b), s) in a.iter().zip(b).zip(&start) {
        let (a, b) = (values(a), values(b));
        let s: Vec<f64> = s
            .to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let scale = b.iter().fold(0f64, |m, x| m.max(x.abs()));
        let d = a
            .iter()
            .zip(&b)
            .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
        let mv = b
            .iter()
            .zip(&s)
            .fold(0f64, |m, (x, y)| m.max((x - y).abs()));
        diff = diff.max(d / scale);
        moved = moved.max(mv / scale);
    }
    (diff, moved)
}

fn adamw_matches(dtype: DType, tolerance: f64) {
    // candle_nn's AdamW and torch's AdamW have the same defaults; spelled out on both
    // sides, with a larger learning rate and decay so that 100 steps go somewhere.
    let candle_params = ParamsAdamW {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
    };
    let spec = "adamw:lr=0.01,betas=0.9/0.999,eps=1e-8,weight_decay=0.1";
    let mut theirs: Option<AdamW> = None;
    let candle = train(dtype, |vars, loss| {
        let opt =
            theirs.get_or_insert_with(|| AdamW::new(vars.to_vec(), candle_params.clone()).unwrap());
        opt.backward_step(loss).unwrap();
    });
    let mut ours: Option<optimist_candle::Optimizer> = None;
    let optimist = train(dtype, |vars, loss| {
        let opt = ours.get_or_insert_with(|| {
            let config = optimist_candle::Config::parse(spec).unwrap();
            optimist_candle::Optimizer::new(vars.to_vec(), config).unwrap()
        });
        opt.backward_step(loss).unwrap();
    });
    assert_eq!(ours.unwrap().steps(), 100);
    let (diff, moved) = relative_difference(&optimist, &candle, dtype);
    assert!(moved > 0.1, "the parameters moved only {moved}");
    assert!(
        diff <= tolerance,
        "{dtype:?}: optimist and candle_nn's AdamW differ by {diff:e} (relative), more than {tolerance:e}"
    );
}

#[test]
fn adamw_matches_candle_nn_adamw_in_f32() {
    adamw_matches(DType::F32, 1e-5);
}

#[test]
fn adamw_matches_candle_nn_adamw_in_f64() {
    adamw_matches(DType::F64, 1e-12);
}

fn sgd_matches(dtype: DType) {
    let lr = 0.05;
    let mut theirs: Option<SGD> = None;
    let candle = train(dtype, |vars, loss| {
        let opt = theirs.get_or_insert_with(|| SGD::new(vars.to_vec(), lr).unwrap());
        opt.backward_step(loss).unwrap();
    });
    let mut ours: Option<optimist_candle::Optimizer> = None;
    let optimist = train(dtype, |vars, loss| {
        let opt = ours.get_or_insert_with(|| {
            let config = optimist_candle::Config::parse(&format!("sgd:lr={lr}")).unwrap();
            optimist_candle::Optimizer::new(vars.to_vec(), config).unwrap()
        });
        opt.backward_step(loss).unwrap();
    });
    let (_, moved) = relative_difference(&optimist, &candle, dtype);
    assert!(moved > 0.1, "the parameters moved only {moved}");
    for (i, (a, b)) in optimist.iter().zip(&candle).enumerate() {
        let bits = |v: &Var| -> Vec<u64> { values(v).iter().map(|x| x.to_bits()).collect() };
        assert_eq!(
            bits(a),
            bits(b),
            "{dtype:?}: var{i} differs from candle_nn's SGD"
        );
    }
}

#[test]
fn sgd_matches_candle_nn_sgd_bit_for_bit_in_f32() {
    sgd_matches(DType::F32);
}

#[test]
fn sgd_matches_candle_nn_sgd_bit_for_bit_in_f64() {
    sgd_matches(DType::F64);
}
