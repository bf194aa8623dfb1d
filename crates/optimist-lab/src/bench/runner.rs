//! One job: one optimizer at one learning rate on one problem with one seed, its
//! metric recorded at the problem's checkpoints.

use super::problems::{Kind, Problem};
use super::BenchError;
use crate::data::mnist::Dataset;
use crate::landscape::Landscape;
use crate::network::Mlp;
use crate::rng::SplitMix64;
use crate::train::{evaluate, TrainData};
use optimist::{registry, Convention, Param, Spec};

/// What one job measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Curve {
    /// The steps at which the metric was recorded, from 0; a diverged run stops early.
    pub steps: Vec<usize>,
    /// The metric at each of those steps.
    pub metric: Vec<f64>,
    /// The step at which the run stopped being finite, if it did.
    pub diverged_at: Option<usize>,
}

impl Curve {
    /// The metric at the end of the budget, or `None` if the run diverged.
    pub fn final_metric(&self) -> Option<f64> {
        match self.diverged_at {
            Some(_) => None,
            None => self.metric.last().copied(),
        }
    }
}

/// The seed of a job's random stream: a hash of the problem and the seed number only,
/// so that every optimizer and rate sees the same noise, batches and initial weights
/// for a seed (common random numbers), whatever order or machine runs it.
pub fn stream_seed(problem: &str, seed: u64) -> u64 {
    // FNV-1a over the text, then one SplitMix64 output to spread the bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in problem.bytes().chain([0u8]).chain(seed.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    SplitMix64::new(h).next_u64()
}

/// Runs `spec` (its learning rate already set) on `problem` with seed `seed`.
pub fn run_job(
    problem: &Problem,
    data: Option<&TrainData>,
    spec: &Spec,
    convention: Convention,
    seed: u64,
) -> Result<Curve, BenchError> {
    let mut rng = SplitMix64::new(stream_seed(&problem.spec, seed));
    let checkpoints = problem.steps();
    let mut curve = Curve {
        steps: Vec::with_capacity(checkpoints.len()),
        metric: Vec::with_capacity(checkpoints.len()),
        diverged_at: None,
    };
    let mut record = |step: usize, value: f64| -> bool {
        if value.is_finite() {
            curve.steps.push(step);
            curve.metric.push(value);
            true
        } else {
            curve.diverged_at = Some(step);
            false
        }
    };
    match &problem.kind {
        Kind::Landscape { landscape, sigma } => {
            let mut opt = registry::build_in::<f64>(spec, convention)?;
            let (x, y) = landscape.start();
            let mut xy = [x, y];
            let minima = landscape.minima();
            let distance = |xy: &[f64; 2]| {
                minima
                    .iter()
                    .map(|&(mx, my)| (xy[0] - mx).hypot(xy[1] - my))
                    .fold(f64::INFINITY, f64::min)
            };
            let mut noise = rng.split();
            let mut next = checkpoints.iter().copied().peekable();
            for step in 0..=problem.budget {
                if next.peek() == Some(&step) {
                    next.next();
                    if !record(step, distance(&xy)) {
                        break;
                    }
                }
                if step == problem.budget {
                    break;
                }
                let (gx, gy) = landscape.gradient(xy[0], xy[1]);
                let grad = [gx + sigma * noise.normal(), gy + sigma * noise.normal()];
                if !(grad[0].is_finite() && grad[1].is_finite()) {
                    curve.diverged_at = Some(step + 1);
                    break;
                }
                opt.step(&mut [Param {
                    name: "xy",
                    shape: &[2],
                    value: &mut xy,
                    grad: &grad,
                }])?;
                if !(xy[0].is_finite() && xy[1].is_finite()) {
                    curve.diverged_at = Some(step + 1);
                    break;
                }
            }
        }
        Kind::Quadratic { dim, kappa, sigma } => {
            let mut opt = registry::build_in::<f64>(spec, convention)?;
            let h: Vec<f64> = (0..*dim)
                .map(|i| kappa.powf(-(i as f64) / (dim.saturating_sub(1).max(1)) as f64))
                .collect();
            let noise_sd: Vec<f64> = h.iter().map(|hi| sigma * hi.sqrt()).collect();
            let mut x = vec![1.0f64; *dim];
            let mut g = vec![0.0f64; *dim];
            let loss = |x: &[f64]| 0.5 * x.iter().zip(&h).map(|(x, h)| h * x * x).sum::<f64>();
            let initial = loss(&x);
            let mut noise = rng.split();
            let mut next = checkpoints.iter().copied().peekable();
            for step in 0..=problem.budget {
                if next.peek() == Some(&step) {
                    next.next();
                    if !record(step, loss(&x) / initial) {
                        break;
                    }
                }
                if step == problem.budget {
                    break;
                }
                for ((g, (x, h)), sd) in g.iter_mut().zip(x.iter().zip(&h)).zip(&noise_sd) {
                    *g = h * x + sd * noise.normal();
                }
                opt.step(&mut [Param {
                    name: "x",
                    shape: &[*dim],
                    value: &mut x,
                    grad: &g,
                }])?;
            }
        }
        Kind::Logistic { batch } | Kind::Mlp { batch } => {
            let data = data.ok_or_else(|| {
                BenchError::Runtime(format!(
                    "{} needs MNIST, which was not loaded",
                    problem.spec
                ))
            })?;
            let mut opt = registry::build_in::<f32>(spec, convention)?;
            let inputs = data.train.image_size();
            let mut init = rng.split();
            let mut batches = rng.split();
            let mut net = if matches!(problem.kind, Kind::Logistic { .. }) {
                Mlp::<f32>::zeros(&[inputs, crate::data::mnist::CLASSES])?
            } else {
                let mut sizes = vec![inputs, 100, 100, 100, 100];
                sizes.push(crate::data::mnist::CLASSES);
                Mlp::<f32>::he(&sizes, &mut init)?
            };
            let logistic = matches!(problem.kind, Kind::Logistic { .. });
            let metric = |net: &mut Mlp<f32>| -> Result<f64, BenchError> {
                let e = evaluate(net, &data.eval)?;
                Ok(if logistic { e.loss } else { e.accuracy })
            };
            let (mut xs, mut ts, mut idx) = (Vec::new(), Vec::new(), Vec::new());
            let mut next = checkpoints.iter().copied().peekable();
            for step in 0..=problem.budget {
                if next.peek() == Some(&step) {
                    next.next();
                    if !record(step, metric(&mut net)?) {
                        break;
                    }
                }
                if step == problem.budget {
                    break;
                }
                draw(
                    &data.train,
                    &mut batches,
                    *batch,
                    &mut idx,
                    &mut xs,
                    &mut ts,
                );
                let loss = net.loss_and_gradient(&xs, &ts)?;
                if !loss.is_finite() {
                    curve.diverged_at = Some(step + 1);
                    break;
                }
                net.step(opt.as_mut())?;
                if !net.params().iter().all(|p| p.is_finite()) {
                    curve.diverged_at = Some(step + 1);
                    break;
                }
            }
        }
    }
    Ok(curve)
}

/// A minibatch of `size` images drawn with replacement into `x` and `t`.
fn draw(
    data: &Dataset,
    rng: &mut SplitMix64,
    size: usize,
    idx: &mut Vec<usize>,
    x: &mut Vec<f32>,
    t: &mut Vec<u8>,
) {
    let n = data.len() as u64;
    idx.clear();
    idx.extend((0..size).map(|_| rng.below(n) as usize));
    data.gather(idx, x, t);
}
