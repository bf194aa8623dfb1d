//! The book's `MultiLayerNet`: affine layers with ReLU between them and softmax with
//! cross-entropy at the end.

use super::pass::{Model, Workspace};
use super::{Affine, Kernel, Real};
use crate::rng::SplitMix64;
use optimist::{Optimizer, Param};
use std::ops::Range;

/// What went wrong with a network or its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// Layer sizes that make no network.
    #[error("bad layer sizes {sizes:?}: {why}")]
    Sizes {
        /// The sizes given, input first.
        sizes: Vec<usize>,
        /// What is wrong with them.
        why: String,
    },
    /// A batch whose values or labels do not fit the network.
    #[error("bad batch: {0}")]
    Batch(String),
    /// The optimizer refused the parameters.
    #[error(transparent)]
    Optimizer(Box<optimist::Error>),
}

impl From<optimist::Error> for NetworkError {
    fn from(e: optimist::Error) -> Self {
        NetworkError::Optimizer(Box::new(e))
    }
}

/// Where one parameter tensor lives in the network's flat parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// `W1`, `b1`, `W2`, ... as in the book.
    pub name: String,
    /// `[inputs, outputs]` for weights, `[outputs]` for biases.
    pub shape: Vec<usize>,
    /// The index of its first element.
    pub offset: usize,
    /// Its number of elements.
    pub len: usize,
}

/// A fully connected ReLU network with a softmax cross-entropy loss.
///
/// All parameters sit in one buffer and all gradients in another, so an optimizer
/// step over [`Mlp::param_views`] updates every tensor at once.
#[derive(Debug, Clone)]
pub struct Mlp<F> {
    sizes: Vec<usize>,
    layers: Vec<Affine>,
    tensors: Vec<TensorInfo>,
    /// Where each tensor lives in `params`, in `tensors` order.
    ranges: Vec<Range<usize>>,
    params: Vec<F>,
    grads: Vec<F>,
    kernel: Kernel,
    skip_blank_columns: bool,
    /// Buffers for each half of a batch ([`Mlp::loss_and_gradient`]); the first also
    /// for whole batches.
    work: [Workspace<F>; 2],
    /// The second half's gradient, added into `grads`.
    half_grads: Vec<F>,
}

/// Batches of at least this many rows are taken in two halves, one on each of two
/// threads where rayon has them, and their gradients added: the same halves whatever
/// the threads, so that no result depends on them.
pub const HALVES_MIN: usize = 64;

impl<F: Real> Mlp<F> {
    /// A network with layer widths `sizes` (input first, classes last) and every
    /// parameter zero.
    pub fn zeros(sizes: &[usize]) -> Result<Self, NetworkError> {
        if sizes.len() < 2 {
            return Err(NetworkError::Sizes {
                sizes: sizes.to_vec(),
                why: "need at least an input and an output width".into(),
            });
        }
        if let Some(i) = sizes.iter().position(|&s| s == 0) {
            return Err(NetworkError::Sizes {
                sizes: sizes.to_vec(),
                why: format!("width {} is zero", i + 1),
            });
        }
        let layers: Vec<Affine> = sizes
            .windows(2)
            .map(|w| Affine {
                inputs: w[0],
                outputs: w[1],
            })
            .collect();
        let mut tensors = Vec::with_capacity(2 * layers.len());
        let mut offset = 0usize;
        for (i, l) in layers.iter().enumerate() {
            let w_len = l
                .inputs
                .checked_mul(l.outputs)
                .ok_or_else(|| NetworkError::Sizes {
                    sizes: sizes.to_vec(),
                    why: "too many parameters".into(),
                })?;
            for (name, shape, len) in [
                (format!("W{}", i + 1), vec![l.inputs, l.outputs], w_len),
                (format!("b{}", i + 1), vec![l.outputs], l.outputs),
            ] {
                tensors.push(TensorInfo {
                    name,
                    shape,
                    offset,
                    len,
                });
                offset = offset.checked_add(len).ok_or_else(|| NetworkError::Sizes {
                    sizes: sizes.to_vec(),
                    why: "too many parameters".into(),
                })?;
            }
        }
        Ok(Mlp {
            sizes: sizes.to_vec(),
            layers,
            ranges: tensors.iter().map(|t| t.offset..t.offset + t.len).collect(),
            tensors,
            params: vec![F::ZERO; offset],
            grads: vec![F::ZERO; offset],
            kernel: Kernel::default(),
            skip_blank_columns: true,
            work: Default::default(),
            half_grads: Vec::new(),
        })
    }

    /// The book's initialization: each weight drawn from a normal distribution with
    /// standard deviation √(2 / fan_in) (He et al., 2015), biases zero.
    pub fn he(sizes: &[usize], rng: &mut SplitMix64) -> Result<Self, NetworkError> {
        let mut net = Self::zeros(sizes)?;
        for (l, layer) in net.layers.iter().enumerate() {
            let scale = (2.0 / layer.inputs as f64).sqrt();
            let w = &net.tensors[2 * l];
            for v in &mut net.params[w.offset..w.offset + w.len] {
                *v = F::from_f64(scale * rng.normal());
            }
        }
        Ok(net)
    }

    /// The same network in another element type (values rounded to it).
    pub fn cast<G: Real>(&self) -> Mlp<G> {
        Mlp {
            sizes: self.sizes.clone(),
            layers: self.layers.clone(),
            tensors: self.tensors.clone(),
            ranges: self.ranges.clone(),
            params: self
                .params
                .iter()
                .map(|v| G::from_f64(v.to_f64()))
                .collect(),
            grads: self.grads.iter().map(|v| G::from_f64(v.to_f64())).collect(),
            kernel: self.kernel,
            skip_blank_columns: self.skip_blank_columns,
            work: Default::default(),
            half_grads: Vec::new(),
        }
    }

    /// Layer widths, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The affine layers, first to last.
    pub fn layers(&self) -> &[Affine] {
        &self.layers
    }

    /// The parameter tensors `W1, b1, W2, b2, ...` and where they are stored.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// Every parameter, tensor after tensor in [`Mlp::tensors`] order.
    pub fn params(&self) -> &[F] {
        &self.params
    }

    /// Every parameter, for writing.
    pub fn params_mut(&mut self) -> &mut [F] {
        &mut self.params
    }

    /// The gradient from the last [`Mlp::loss_and_gradient`], laid out as the
    /// parameters.
    pub fn grads(&self) -> &[F] {
        &self.grads
    }

    /// How matrix products are computed.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Sets how matrix products are computed.
    pub fn set_kernel(&mut self, kernel: Kernel) {
        self.kernel = kernel;
    }

    /// Whether the first layer leaves out input columns that are zero throughout a
    /// batch (on by default): the same products over fewer terms, so the results
    /// differ only by rounding.
    pub fn skip_blank_columns(&self) -> bool {
        self.skip_blank_columns
    }

    /// Sets whether the first layer leaves out input columns that are zero throughout
    /// a batch.
    pub fn set_skip_blank_columns(&mut self, on: bool) {
        self.skip_blank_columns = on;
    }

    /// The number of classes (the last width).
    pub fn classes(&self) -> usize {
        *self.sizes.last().expect("at least two widths")
    }

    /// The scores (before softmax) for a batch `x` of rows of [`Mlp::sizes`]`[0]`
    /// values: one row of [`Mlp::classes`] scores per example.
    pub fn forward(&mut self, x: &[F]) -> Result<&[F], NetworkError> {
        let batch = self.check_input(x)?;
        let (model, [work, _], _, _) = self.parts();
        work.forward(&model, x, batch);
        Ok(self.work[0].scores())
    }

    /// The mean loss on a batch, without gradients.
    pub fn loss(&mut self, x: &[F], labels: &[u8]) -> Result<F, NetworkError> {
        let batch = self.check_batch(x, labels)?;
        let (model, [work, _], _, _) = self.parts();
        work.forward(&model, x, batch);
        Ok(F::from_f64(-work.log_likelihood(labels) / batch as f64))
    }

    /// The mean loss on a batch, leaving its gradient in [`Mlp::grads`]
    /// (backpropagation). Batches of [`HALVES_MIN`] rows or more are taken in two
    /// halves, on two threads where rayon has them.
    pub fn loss_and_gradient(&mut self, x: &[F], labels: &[u8]) -> Result<F, NetworkError> {
        let batch = self.check_batch(x, labels)?;
        let width = self.sizes[0];
        let (model, [first, second], grads, grads1) = self.parts();
        let whole = |work: &mut Workspace<F>, grads: &mut [F], x: &[F], t: &[u8]| {
            work.forward(&model, x, t.len());
            let total = work.log_likelihood(t);
            work.backward(&model, x, t, batch, grads);
            total
        };
        let total = if batch < HALVES_MIN {
            whole(first, grads, x, labels)
        } else {
            let half = batch / 2;
            let (x0, x1) = x.split_at(half * width);
            let (t0, t1) = labels.split_at(half);
            grads1.resize(grads.len(), F::ZERO);
            let mut totals = (0.0, 0.0);
            let second_half = |_: &rayon::Scope<'_>| {
                totals.1 = whole(second, grads1, x1, t1);
            };
            // The calling thread takes the first half, and another the second.
            rayon::in_place_scope(|s| {
                s.spawn(second_half);
                totals.0 = whole(first, grads, x0, t0);
            });
            for (g, &h) in grads.iter_mut().zip(grads1.iter()) {
                *g += h;
            }
            totals.0 + totals.1
        };
        Ok(F::from_f64(-total / batch as f64))
    }

    /// What a pass reads of the network, its buffers, its gradient and the second
    /// half's.
    #[allow(clippy::type_complexity)]
    fn parts(&mut self) -> (Model<'_, F>, &mut [Workspace<F>; 2], &mut [F], &mut Vec<F>) {
        let model = Model {
            layers: &self.layers,
            ranges: &self.ranges,
            params: &self.params,
            kernel: self.kernel,
            skip_blank_columns: self.skip_blank_columns,
        };
        (model, &mut self.work, &mut self.grads, &mut self.half_grads)
    }

    /// Every parameter tensor with its gradient, as an optimizer steps them.
    pub fn param_views(&mut self) -> Vec<Param<'_, F>> {
        let mut views = Vec::with_capacity(self.tensors.len());
        let mut values: &mut [F] = &mut self.params;
        let mut grads: &[F] = &self.grads;
        for t in &self.tensors {
            let (v, rest) = std::mem::take(&mut values).split_at_mut(t.len);
            values = rest;
            let (g, rest) = grads.split_at(t.len);
            grads = rest;
            views.push(Param {
                name: &t.name,
                shape: &t.shape,
                value: v,
                grad: g,
            });
        }
        views
    }

    /// One optimizer step on every parameter from the current gradient.
    pub fn step(&mut self, optimizer: &mut dyn Optimizer<F>) -> Result<(), NetworkError> {
        optimizer.step(&mut self.param_views())?;
        Ok(())
    }

    fn check_input(&self, x: &[F]) -> Result<usize, NetworkError> {
        let width = self.sizes[0];
        if x.is_empty() || !x.len().is_multiple_of(width) {
            return Err(NetworkError::Batch(format!(
                "{} input values are not a positive whole number of rows of {width}",
                x.len()
            )));
        }
        Ok(x.len() / width)
    }

    fn check_batch(&self, x: &[F], labels: &[u8]) -> Result<usize, NetworkError> {
        let batch = self.check_input(x)?;
        if labels.len() != batch {
            return Err(NetworkError::Batch(format!(
                "{batch} rows of input but {} labels",
                labels.len()
            )));
        }
        let classes = self.classes();
        if let Some(i) = labels.iter().position(|&t| usize::from(t) >= classes) {
            return Err(NetworkError::Batch(format!(
                "label {} at index {i} is not a class 0–{}",
                labels[i],
                classes - 1
            )));
        }
        Ok(batch)
    }
}
