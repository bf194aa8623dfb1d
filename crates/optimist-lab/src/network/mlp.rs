//! The book's `MultiLayerNet`: affine layers with ReLU between them and softmax with
//! cross-entropy at the end.

use super::columns::Columns;
use super::{Affine, Kernel, Real, Relu, SoftmaxCrossEntropy};
use crate::rng::SplitMix64;
use optimist::{Optimizer, Param};

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
    params: Vec<F>,
    grads: Vec<F>,
    kernel: Kernel,
    skip_blank_columns: bool,
    work: Workspace<F>,
}

/// Buffers reused from one batch to the next.
#[derive(Debug, Clone, Default)]
struct Workspace<F> {
    batch: usize,
    /// Each layer's output (after ReLU for hidden layers; scores for the last).
    acts: Vec<Vec<F>>,
    probs: Vec<F>,
    delta: Vec<F>,
    delta_next: Vec<F>,
    /// The first layer's non-zero input columns.
    columns: Columns<F>,
}

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
            tensors,
            params: vec![F::ZERO; offset],
            grads: vec![F::ZERO; offset],
            kernel: Kernel::default(),
            skip_blank_columns: true,
            work: Workspace::default(),
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
            params: self
                .params
                .iter()
                .map(|v| G::from_f64(v.to_f64()))
                .collect(),
            grads: self.grads.iter().map(|v| G::from_f64(v.to_f64())).collect(),
            kernel: self.kernel,
            skip_blank_columns: self.skip_blank_columns,
            work: Workspace::default(),
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
        self.run_forward(x, batch);
        Ok(self.work.acts.last().expect("at least one layer"))
    }

    /// The mean loss on a batch, without gradients.
    pub fn loss(&mut self, x: &[F], labels: &[u8]) -> Result<F, NetworkError> {
        let batch = self.check_batch(x, labels)?;
        self.run_forward(x, batch);
        Ok(self.run_loss(labels))
    }

    /// The mean loss on a batch, leaving its gradient in [`Mlp::grads`]
    /// (backpropagation).
    pub fn loss_and_gradient(&mut self, x: &[F], labels: &[u8]) -> Result<F, NetworkError> {
        let batch = self.check_batch(x, labels)?;
        self.run_forward(x, batch);
        let loss = self.run_loss(labels);
        self.run_backward(x, labels, batch);
        Ok(loss)
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
        if x.is_empty() || x.len() % width != 0 {
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

    /// Sizes the buffers for `batch` rows.
    fn prepare(&mut self, batch: usize) {
        let classes = self.classes();
        let w = &mut self.work;
        if w.batch == batch && w.acts.len() == self.layers.len() {
            return;
        }
        w.batch = batch;
        w.acts = self
            .layers
            .iter()
            .map(|l| vec![F::ZERO; batch * l.outputs])
            .collect();
        w.probs = vec![F::ZERO; batch * classes];
        let widest = self.sizes.iter().copied().max().unwrap_or(0);
        w.delta = vec![F::ZERO; batch * widest];
        w.delta_next = vec![F::ZERO; batch * widest];
    }

    fn run_forward(&mut self, x: &[F], batch: usize) {
        self.prepare(batch);
        let last = self.layers.len() - 1;
        let Workspace { acts, columns, .. } = &mut self.work;
        columns.used = false;
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, rest) = acts.split_at_mut(l);
            let out = &mut rest[0];
            let (w, b) = (&self.tensors[2 * l], &self.tensors[2 * l + 1]);
            let (w, b) = (
                &self.params[w.offset..w.offset + w.len],
                &self.params[b.offset..b.offset + b.len],
            );
            if l == 0 && self.skip_blank_columns && columns.select(x, layer.inputs) {
                columns.gather_weights(w, layer.outputs);
                let narrow = Affine {
                    inputs: columns.width,
                    outputs: layer.outputs,
                };
                narrow.forward(self.kernel, &columns.w, b, &columns.x, out);
            } else {
                let input: &[F] = if l == 0 { x } else { &before[l - 1] };
                layer.forward(self.kernel, w, b, input, out);
            }
            if l < last {
                Relu::forward(out);
            }
        }
    }

    fn run_loss(&mut self, labels: &[u8]) -> F {
        let classes = self.classes();
        let scores = self.work.acts.last().expect("at least one layer");
        SoftmaxCrossEntropy::forward(scores, labels, classes, &mut self.work.probs)
    }

    fn run_backward(&mut self, x: &[F], labels: &[u8], batch: usize) {
        let classes = self.classes();
        let mut delta = std::mem::take(&mut self.work.delta);
        let mut delta_next = std::mem::take(&mut self.work.delta_next);
        SoftmaxCrossEntropy::backward(
            &self.work.probs,
            labels,
            classes,
            &mut delta[..batch * classes],
        );
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let input: &[F] = if l == 0 { x } else { &self.work.acts[l - 1] };
            let (w, b) = (&self.tensors[2 * l], &self.tensors[2 * l + 1]);
            // W and b are adjacent, W first.
            let (dw, db) = self.grads[w.offset..b.offset + b.len].split_at_mut(w.len);
            let dy = &delta[..batch * layer.outputs];
            let dx = if l > 0 {
                Some(&mut delta_next[..batch * layer.inputs])
            } else {
                None
            };
            let columns = &mut self.work.columns;
            if l == 0 && columns.used {
                let narrow = Affine {
                    inputs: columns.width,
                    outputs: layer.outputs,
                };
                columns.dw.resize(columns.width * layer.outputs, F::ZERO);
                narrow.backward(
                    self.kernel,
                    &columns.w,
                    &columns.x,
                    dy,
                    &mut columns.dw,
                    db,
                    None,
                );
                columns.scatter_gradient(dw, layer.outputs);
            } else {
                layer.backward(
                    self.kernel,
                    &self.params[w.offset..w.offset + w.len],
                    input,
                    dy,
                    dw,
                    db,
                    dx,
                );
            }
            if l > 0 {
                Relu::backward(
                    &self.work.acts[l - 1],
                    &mut delta_next[..batch * layer.inputs],
                );
                std::mem::swap(&mut delta, &mut delta_next);
            }
        }
        self.work.delta = delta;
        self.work.delta_next = delta_next;
    }
}
