//! One forward and backward pass over rows of a batch, in buffers of its own: what
//! [`super::Mlp`] runs on each half of a batch, one half on each of two threads.

use super::columns::Columns;
use super::{Affine, Kernel, Real, Relu, SoftmaxCrossEntropy};
use std::ops::Range;

/// What a pass reads of the network.
pub(crate) struct Model<'a, F> {
    pub layers: &'a [Affine],
    /// Where each tensor lives in `params`: `W1, b1, W2, b2, ...`.
    pub ranges: &'a [Range<usize>],
    pub params: &'a [F],
    pub kernel: Kernel,
    pub skip_blank_columns: bool,
}

impl<F> Model<'_, F> {
    /// Layer `l`'s weights and biases.
    fn weights(&self, l: usize) -> (&[F], &[F]) {
        (
            &self.params[self.ranges[2 * l].clone()],
            &self.params[self.ranges[2 * l + 1].clone()],
        )
    }
}

/// Buffers reused from one batch to the next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace<F> {
    batch: usize,
    /// Each layer's output (after ReLU for hidden layers; scores for the last).
    acts: Vec<Vec<F>>,
    probs: Vec<F>,
    delta: Vec<F>,
    delta_next: Vec<F>,
    /// The first layer's non-zero input columns.
    columns: Columns<F>,
}

impl<F: Real> Workspace<F> {
    /// The scores of the last forward pass.
    pub fn scores(&self) -> &[F] {
        self.acts.last().expect("at least one layer")
    }

    /// Sizes the buffers for `batch` rows.
    fn prepare(&mut self, model: &Model<'_, F>, batch: usize) {
        if self.batch == batch && self.acts.len() == model.layers.len() {
            return;
        }
        self.batch = batch;
        self.acts = model
            .layers
            .iter()
            .map(|l| vec![F::ZERO; batch * l.outputs])
            .collect();
        let classes = model.layers.last().map_or(0, |l| l.outputs);
        self.probs = vec![F::ZERO; batch * classes];
        let widest = model
            .layers
            .iter()
            .map(|l| l.inputs.max(l.outputs))
            .max()
            .unwrap_or(0);
        self.delta = vec![F::ZERO; batch * widest];
        self.delta_next = vec![F::ZERO; batch * widest];
    }

    /// The scores of `batch` rows `x`.
    pub fn forward(&mut self, model: &Model<'_, F>, x: &[F], batch: usize) {
        self.prepare(model, batch);
        let last = model.layers.len() - 1;
        let Workspace { acts, columns, .. } = self;
        columns.used = false;
        for (l, layer) in model.layers.iter().enumerate() {
            let (before, rest) = acts.split_at_mut(l);
            let out = &mut rest[0];
            let (w, b) = model.weights(l);
            if l == 0 && model.skip_blank_columns && columns.select(x, layer.inputs) {
                columns.gather_weights(w, layer.outputs);
                let narrow = Affine {
                    inputs: columns.width,
                    outputs: layer.outputs,
                };
                narrow.forward(model.kernel, &columns.w, b, &columns.x, out);
            } else {
                let input: &[F] = if l == 0 { x } else { &before[l - 1] };
                layer.forward(model.kernel, w, b, input, out);
            }
            if l < last {
                Relu::forward(out);
            }
        }
    }

    /// Σ log(y_t + ε) over the rows of the last forward pass, with true classes
    /// `labels` (the loss is minus its mean over the batch).
    pub fn log_likelihood(&mut self, labels: &[u8]) -> f64 {
        let classes = self.probs.len() / self.batch;
        let scores = self.acts.last().expect("at least one layer");
        SoftmaxCrossEntropy::log_likelihood(scores, labels, classes, &mut self.probs)
    }

    /// Backpropagation after [`Workspace::forward`] and
    /// [`Workspace::log_likelihood`] on the same rows: writes into `grads` the
    /// gradient of their share of the mean loss over a batch of `n` rows.
    pub fn backward(
        &mut self,
        model: &Model<'_, F>,
        x: &[F],
        labels: &[u8],
        n: usize,
        grads: &mut [F],
    ) {
        let batch = self.batch;
        let classes = self.probs.len() / batch;
        let Workspace {
            acts,
            probs,
            delta,
            delta_next,
            columns,
            ..
        } = self;
        SoftmaxCrossEntropy::backward_in(probs, labels, classes, n, &mut delta[..batch * classes]);
        for (l, layer) in model.layers.iter().enumerate().rev() {
            let input: &[F] = if l == 0 { x } else { &acts[l - 1] };
            let (w_range, b_range) = (&model.ranges[2 * l], &model.ranges[2 * l + 1]);
            // W and b are adjacent, W first.
            let (dw, db) = grads[w_range.start..b_range.end].split_at_mut(w_range.len());
            let dy = &delta[..batch * layer.outputs];
            let dx = if l > 0 {
                Some(&mut delta_next[..batch * layer.inputs])
            } else {
                None
            };
            if l == 0 && columns.used {
                let narrow = Affine {
                    inputs: columns.width,
                    outputs: layer.outputs,
                };
                columns.dw.resize(columns.width * layer.outputs, F::ZERO);
                narrow.backward(
                    model.kernel,
                    &columns.w,
                    &columns.x,
                    dy,
                    &mut columns.dw,
                    db,
                    None,
                );
                columns.scatter_gradient(dw, layer.outputs);
            } else {
                layer.backward(model.kernel, model.weights(l).0, input, dy, dw, db, dx);
            }
            if l > 0 {
                Relu::backward(&acts[l - 1], &mut delta_next[..batch * layer.inputs]);
                std::mem::swap(delta, delta_next);
            }
        }
    }
}
