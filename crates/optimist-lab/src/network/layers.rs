//! The layers, each with its forward and backward pass, on row-major batches (one row
//! per example).

use super::{gemm, Kernel, Real};

/// The ε in the book's cross-entropy, −Σ log(y + ε) / N, that keeps log(0) finite.
pub const LOG_EPSILON: f64 = 1e-7;

/// A fully connected layer, `y = x·W + b`, with `W` of shape `inputs × outputs` and `b`
/// of length `outputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Affine {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
}

impl Affine {
    /// `y = x·W + b` for a batch of `batch` rows.
    pub fn forward<F: Real>(&self, kernel: Kernel, w: &[F], b: &[F], x: &[F], y: &mut [F]) {
        let batch = x.len() / self.inputs;
        for row in y.chunks_exact_mut(self.outputs) {
            row.copy_from_slice(b);
        }
        gemm(
            kernel,
            batch,
            self.inputs,
            self.outputs,
            x,
            false,
            w,
            false,
            F::ONE,
            y,
        );
    }

    /// From `dy` = ∂L/∂y: `dw` = xᵀ·dy, `db` = the column sums of `dy`, and, when asked
    /// for, `dx` = dy·Wᵀ.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<F: Real>(
        &self,
        kernel: Kernel,
        w: &[F],
        x: &[F],
        dy: &[F],
        dw: &mut [F],
        db: &mut [F],
        dx: Option<&mut [F]>,
    ) {
        let batch = dy.len() / self.outputs;
        gemm(
            kernel,
            self.inputs,
            batch,
            self.outputs,
            x,
            true,
            dy,
            false,
            F::ZERO,
            dw,
        );
        db.fill(F::ZERO);
        for row in dy.chunks_exact(self.outputs) {
            for (d, &g) in db.iter_mut().zip(row) {
                *d += g;
            }
        }
        if let Some(dx) = dx {
            gemm(
                kernel,
                batch,
                self.outputs,
                self.inputs,
                dy,
                false,
                w,
                true,
                F::ZERO,
                dx,
            );
        }
    }
}

/// The rectified linear unit, `max(x, 0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relu;

impl Relu {
    /// `x ← max(x, 0)`, in place.
    pub fn forward<F: Real>(x: &mut [F]) {
        for v in x {
            // An unconditional store of a select, so that it vectorizes (a conditional
            // store does not); a NaN stays NaN.
            *v = if *v < F::ZERO { F::ZERO } else { *v };
        }
    }

    /// `dx ← dx` where the output `y` was positive, 0 elsewhere, in place.
    pub fn backward<F: Real>(y: &[F], dx: &mut [F]) {
        for (d, &v) in dx.iter_mut().zip(y) {
            *d = if v > F::ZERO { *d } else { F::ZERO };
        }
    }
}

/// Softmax followed by the book's cross-entropy, −Σ log(y_t + ε) / N over a batch of N
/// examples with true classes t.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SoftmaxCrossEntropy;

impl SoftmaxCrossEntropy {
    /// The probabilities (written to `probs`) and the mean loss, from the scores of
    /// `labels.len()` rows of `classes` each.
    pub fn forward<F: Real>(logits: &[F], labels: &[u8], classes: usize, probs: &mut [F]) -> F {
        let total = Self::log_likelihood(logits, labels, classes, probs);
        F::from_f64(-total / labels.len() as f64)
    }

    /// As [`SoftmaxCrossEntropy::forward`], but Σ log(y_t + ε) over the rows instead of
    /// the mean loss: minus the loss times the rows, for a batch taken in parts.
    pub fn log_likelihood<F: Real>(
        logits: &[F],
        labels: &[u8],
        classes: usize,
        probs: &mut [F],
    ) -> f64 {
        let eps = F::from_f64(LOG_EPSILON);
        let mut total = 0.0;
        for ((z, p), &t) in logits
            .chunks_exact(classes)
            .zip(probs.chunks_exact_mut(classes))
            .zip(labels)
        {
            softmax_row(z, p);
            total += (p[usize::from(t)] + eps).ln().to_f64();
        }
        total
    }

    /// ∂L/∂scores from the probabilities `forward` wrote, into `dlogits`.
    ///
    /// The exact derivative of the loss above, ε included: (y − onehot(t)) · y_t /
    /// (y_t + ε) / N. The book drops the factor y_t / (y_t + ε), which differs from 1
    /// by less than 1e-6 once y_t > 0.1; keeping it makes backpropagation agree with
    /// finite differences of the loss that is reported.
    pub fn backward<F: Real>(probs: &[F], labels: &[u8], classes: usize, dlogits: &mut [F]) {
        Self::backward_in(probs, labels, classes, labels.len(), dlogits);
    }

    /// As [`SoftmaxCrossEntropy::backward`], for rows that are part of a batch of `n`:
    /// their share of the gradient of the batch's mean loss.
    pub fn backward_in<F: Real>(
        probs: &[F],
        labels: &[u8],
        classes: usize,
        n: usize,
        dlogits: &mut [F],
    ) {
        let eps = F::from_f64(LOG_EPSILON);
        let n = F::from_f64(n as f64);
        for ((p, d), &t) in probs
            .chunks_exact(classes)
            .zip(dlogits.chunks_exact_mut(classes))
            .zip(labels)
        {
            let t = usize::from(t);
            let scale = p[t] / ((p[t] + eps) * n);
            for (j, (&pj, dj)) in p.iter().zip(d.iter_mut()).enumerate() {
                let target = if j == t { F::ONE } else { F::ZERO };
                *dj = (pj - target) * scale;
            }
        }
    }
}

/// Softmax of one row, shifted by its maximum so that exp never overflows.
fn softmax_row<F: Real>(z: &[F], p: &mut [F]) {
    let max = z.iter().fold(z[0], |m, &v| if v > m { v } else { m });
    let mut sum = F::ZERO;
    for (pj, &zj) in p.iter_mut().zip(z) {
        *pj = (zj - max).exp();
        sum += *pj;
    }
    let inv = F::ONE / sum;
    for pj in p.iter_mut() {
        *pj *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_cross_entropy_matches_hand_values() {
        // Scores [1, 2, 3]: softmax = [0.09003057317038046, 0.24472847105479764,
        // 0.6652409557748219]; loss for class 2 = −ln(0.66524... + 1e-7).
        let logits = [1.0f64, 2.0, 3.0, 1000.0, 0.0, -1000.0];
        let mut probs = [0.0; 6];
        let loss = SoftmaxCrossEntropy::forward(&logits, &[2, 0], 3, &mut probs);
        let expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
        for (p, e) in probs[..3].iter().zip(expected) {
            assert!((p - e).abs() < 1e-15, "{p} vs {e}");
        }
        assert_eq!(&probs[3..], &[1.0, 0.0, 0.0]);
        let want = (-(0.6652409557748219f64 + 1e-7).ln() - (1.0f64 + 1e-7).ln()) / 2.0;
        assert!((loss - want).abs() < 1e-15, "{loss} vs {want}");
    }

    #[test]
    fn relu_masks_where_the_output_was_not_positive() {
        let mut x = [-1.0f32, 0.0, 2.0];
        Relu::forward(&mut x);
        assert_eq!(x, [0.0, 0.0, 2.0]);
        let mut d = [5.0f32, 6.0, 7.0];
        Relu::backward(&x, &mut d);
        assert_eq!(d, [0.0, 0.0, 7.0]);
    }
}
