//! The book's network experiment in candle, with any optimist optimizer:
//!
//! ```sh
//! cargo run --release -p optimist-candle --example mnist -- -o adamw:lr=1e-3
//! ```
//!
//! A 784-100-100-100-100-10 ReLU network (He initialization) trained on mini-batches of
//! 128 with a softmax cross-entropy loss; the network, its loss and its gradients are
//! candle's, the step optimist's, through `optimist_candle::Optimizer`. The data is
//! `optimist train`'s: MNIST's training set when its files are there, else the 10,000
//! test images split into 8,000 to train on and 2,000 held out; the same `--seed` gives
//! the same initial weights and mini-batches as `optimist train --seed`.

use candle_core::{DType, Device, Module, Tensor, Var, D};
use candle_nn::{Optimizer as _, VarMap};
use clap::Parser;
use optimist::Convention;
use optimist_lab::data::mnist::{Dataset, CLASSES};
use optimist_lab::network::Mlp;
use optimist_lab::rng::SplitMix64;
use optimist_lab::train;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Trains the book's MNIST network in candle with an optimist optimizer.
#[derive(Debug, Parser)]
struct Args {
    /// The optimizer: NAME[:KEY=VALUE,...], e.g. adamw:lr=1e-3,weight_decay=0.01
    #[arg(short, long, default_value = "adam:lr=1e-3")]
    optimizer: String,

    /// Whose meaning the optimizer's name has: pytorch, article or optax
    #[arg(long, default_value = "pytorch")]
    convention: Convention,

    /// Hyperparameters for the tensors a pattern matches (W1..W5, b1..b5), e.g.
    /// 'b*:weight_decay=0'; may be repeated
    #[arg(long, value_name = "PATTERN:KEY=VALUE,...")]
    group: Vec<String>,

    /// A learning-rate schedule, with torch's names: e.g. cosineannealinglr:T_max=2000
    #[arg(long)]
    schedule: Option<String>,

    /// Gradient clipping: clip_grad_norm:max_norm=X or clip_grad_value:clip_value=X
    #[arg(long)]
    clip: Option<String>,

    /// Mini-batch steps
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    iterations: u64,

    /// Examples per mini-batch
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,

    /// Seeds the initial weights and the mini-batches, as `optimist train --seed`
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// The folder holding the MNIST files (t10k-images-idx3-ubyte.gz, ...)
    #[arg(long, default_value = "data/mnist")]
    data: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // A bad setting is a usage error (exit 2), as clap's own; anything after, 1.
    let config = match config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The optimizer's configuration from the options.
fn config(args: &Args) -> candle_core::Result<optimist_candle::Config> {
    let mut config =
        optimist_candle::Config::parse(&args.optimizer)?.with_convention(args.convention)?;
    for g in &args.group {
        config = config.group(g)?;
    }
    if let Some(s) = &args.schedule {
        config = config.schedule(s)?;
    }
    if let Some(c) = &args.clip {
        config = config.clip(c)?;
    }
    Ok(config)
}

fn run(args: &Args, config: optimist_candle::Config) -> Result<(), Box<dyn std::error::Error>> {
    let data = train::load_data(&args.data)?;
    if let Some(note) = &data.note {
        println!("note: {note}");
    }

    // The initial weights of `optimist train`: its seed's first stream, then the
    // batches' stream.
    let mut root = SplitMix64::new(args.seed);
    let mut init_rng = root.split();
    let mut batch_rng = root.split();
    let mut sizes = vec![data.train.image_size()];
    sizes.extend(train::DEFAULT_HIDDEN);
    sizes.push(CLASSES);
    let initial = Mlp::<f32>::he(&sizes, &mut init_rng)?;

    // Named W1, b1, ... as in the book and `optimist train`, so that groups read alike.
    let varmap = VarMap::new();
    let mut layers = Vec::new();
    {
        let mut vars = varmap.data().lock().map_err(|_| "the VarMap is poisoned")?;
        for pair in initial.tensors().chunks(2) {
            let [w, b] = pair else {
                return Err("the network's tensors are not weight and bias pairs".into());
            };
            let var = |t: &optimist_lab::network::TensorInfo| {
                let values = &initial.params()[t.offset..t.offset + t.len];
                Var::from_slice(values, t.shape.as_slice(), &Device::Cpu)
            };
            let (wv, bv) = (var(w)?, var(b)?);
            layers.push(Layer {
                w: wv.as_tensor().clone(),
                b: bv.as_tensor().clone(),
            });
            vars.insert(w.name.clone(), wv);
            vars.insert(b.name.clone(), bv);
        }
    }
    let net = Network { layers };
    let mut opt = optimist_candle::Optimizer::from_varmap(&varmap, config)?;
    let parameters: usize = initial.tensors().iter().map(|t| t.len).sum();
    println!(
        "{} network ({parameters} parameters), {} images, batches of {}, {} iterations, seed {}",
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        data.train.len(),
        args.batch_size,
        args.iterations,
        args.seed
    );
    println!("optimizer: {}", opt.label());

    let (mut indices, mut x, mut t) = (Vec::new(), Vec::<f32>::new(), Vec::new());
    let (mut forward_backward, mut step) = (0.0, 0.0);
    let start = Instant::now();
    for i in 0..args.iterations {
        indices.clear();
        for _ in 0..args.batch_size {
            indices.push(batch_rng.below(data.train.len() as u64) as usize);
        }
        data.train.gather(&indices, &mut x, &mut t);
        let timer = Instant::now();
        let xb = Tensor::from_slice(&x, (indices.len(), data.train.image_size()), &Device::Cpu)?;
        let tb = Tensor::from_iter(t.iter().map(|&c| u32::from(c)), &Device::Cpu)?;
        let loss = candle_nn::loss::cross_entropy(&net.forward(&xb)?, &tb)?;
        let grads = loss.backward()?;
        let between = Instant::now();
        opt.step(&grads)?;
        forward_backward += (between - timer).as_secs_f64();
        step += between.elapsed().as_secs_f64();
        if i % 100 == 0 || i + 1 == args.iterations {
            let loss = loss.to_scalar::<f32>()?;
            println!("iteration {i:>5}: loss {loss:.4}");
            if !loss.is_finite() {
                return Err(format!("diverged at iteration {i} (loss {loss})").into());
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let (correct, total) = accuracy(&net, &data.eval)?;
    println!(
        "{} accuracy: {:.2}% ({correct} of {total})",
        data.eval_set.name(),
        100.0 * correct as f64 / total as f64
    );
    println!(
        "{seconds:.1} s: forward and backward {:.2} ms, step {:.3} ms per iteration",
        1e3 * forward_backward / args.iterations as f64,
        1e3 * step / args.iterations as f64
    );
    Ok(())
}

/// One affine layer, `x·W + b` (weights `[inputs, outputs]`, as in the book).
struct Layer {
    w: Tensor,
    b: Tensor,
}

/// Affine layers with ReLU between them; the last gives the class scores.
struct Network {
    layers: Vec<Layer>,
}

impl Module for Network {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (i, l) in self.layers.iter().enumerate() {
            h = h.matmul(&l.w)?.broadcast_add(&l.b)?;
            if i + 1 < self.layers.len() {
                h = h.relu()?;
            }
        }
        Ok(h)
    }
}

/// How many images of `set` the network classifies right, of how many.
fn accuracy(net: &Network, set: &Dataset) -> candle_core::Result<(usize, usize)> {
    let all: Vec<usize> = (0..set.len()).collect();
    let (mut x, mut t) = (Vec::<f32>::new(), Vec::new());
    let mut correct = 0;
    for chunk in all.chunks(1000) {
        set.gather(chunk, &mut x, &mut t);
        let xb = Tensor::from_slice(&x, (chunk.len(), set.image_size()), &Device::Cpu)?;
        let predicted = net.forward(&xb)?.argmax(D::Minus1)?.to_dtype(DType::U32)?;
        correct += predicted
            .to_vec1::<u32>()?
            .iter()
            .zip(&t)
            .filter(|(p, c)| **p == u32::from(**c))
            .count();
    }
    Ok((correct, set.len()))
}
