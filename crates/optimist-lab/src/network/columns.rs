//! The first layer on the input columns that are not zero throughout the batch.
//!
//! A third of MNIST's pixels are blank in every image of a typical batch of 128 (the
//! border); their columns contribute nothing to x·W, and their rows of ∂L/∂W = xᵀ·dy
//! are zero. Leaving them out of both products saves a third of the first layer's
//! multiply-adds while the products still go through `matrixmultiply`.

use super::Real;

/// The non-zero columns of a batch, gathered with the matching rows of W.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns<F> {
    /// Columns non-zero somewhere in the batch, as runs `(first, count)`.
    runs: Vec<(usize, usize)>,
    /// The number of such columns.
    pub width: usize,
    /// One flag per input column.
    flags: Vec<u32>,
    /// The batch restricted to those columns, `batch × width`.
    pub x: Vec<F>,
    /// W restricted to those rows, `width × outputs`.
    pub w: Vec<F>,
    /// ∂L/∂W restricted to those rows.
    pub dw: Vec<F>,
    /// Whether the last forward pass used the restricted batch.
    pub used: bool,
}

impl<F: Real> Columns<F> {
    /// Finds the columns of `x` (rows of `inputs` values) that are non-zero somewhere;
    /// when at least a quarter are zero throughout, gathers the batch on the others and
    /// returns true.
    pub fn select(&mut self, x: &[F], inputs: usize) -> bool {
        self.flags.clear();
        self.flags.resize(inputs, 0);
        for row in x.chunks_exact(inputs) {
            // Or-ing flags, branch-free, so that the loop vectorizes; NaN counts as
            // non-zero.
            for (f, &v) in self.flags.iter_mut().zip(row) {
                *f |= u32::from(v != F::ZERO);
            }
        }
        self.runs.clear();
        let mut c = 0;
        while c < inputs {
            if self.flags[c] == 0 {
                c += 1;
                continue;
            }
            let first = c;
            while c < inputs && self.flags[c] != 0 {
                c += 1;
            }
            self.runs.push((first, c - first));
        }
        self.width = self.runs.iter().map(|r| r.1).sum();
        self.used = self.width > 0 && 4 * self.width <= 3 * inputs;
        if self.used {
            self.x.clear();
            for row in x.chunks_exact(inputs) {
                for &(first, count) in &self.runs {
                    self.x.extend_from_slice(&row[first..first + count]);
                }
            }
        }
        self.used
    }

    /// Gathers the selected rows of `w` (`inputs × outputs`).
    pub fn gather_weights(&mut self, w: &[F], outputs: usize) {
        self.w.clear();
        for &(first, count) in &self.runs {
            self.w
                .extend_from_slice(&w[first * outputs..(first + count) * outputs]);
        }
    }

    /// Writes the restricted gradient into the full `dw` (`inputs × outputs`), zero on
    /// the rows of columns that were zero throughout.
    pub fn scatter_gradient(&self, dw: &mut [F], outputs: usize) {
        let mut next = 0;
        let mut from = 0;
        for &(first, count) in &self.runs {
            dw[next * outputs..first * outputs].fill(F::ZERO);
            dw[first * outputs..(first + count) * outputs]
                .copy_from_slice(&self.dw[from..from + count * outputs]);
            from += count * outputs;
            next = first + count;
        }
        dw[next * outputs..].fill(F::ZERO);
    }
}
