//! Dense matrices for tensor-level rules that need matrix products, such as Muon's
//! Newton–Schulz iteration: the engine owns these loops, as it owns the elementwise
//! ones, so that a faster product makes every such rule faster.

use super::share::Shared;
use crate::Float;

/// A dense matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix<F> {
    rows: usize,
    cols: usize,
    data: Vec<F>,
}

impl<F: Float> Matrix<F> {
    /// The `rows` × `cols` matrix holding `data`, row-major.
    ///
    /// # Panics
    /// If `data` does not have `rows·cols` elements (a bug in the calling rule).
    pub fn new(rows: usize, cols: usize, data: Vec<F>) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "a {rows}×{cols} matrix needs {} elements",
            rows * cols
        );
        Matrix { rows, cols, data }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[F] {
        &self.data
    }

    /// The elements, row-major, giving up the matrix.
    pub fn into_data(self) -> Vec<F> {
        self.data
    }

    /// The transpose.
    pub fn t(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for j in 0..self.cols {
            for i in 0..self.rows {
                data.push(self.data[i * self.cols + j]);
            }
        }
        Matrix {
            rows: self.cols,
            cols: self.rows,
            data,
        }
    }

    /// The Frobenius norm, accumulated in f64.
    pub fn norm(&self) -> f64 {
        super::sum_squares(&self.data).sqrt()
    }

    /// Every element multiplied by `s`.
    pub fn scale(mut self, s: F) -> Self {
        for x in &mut self.data {
            *x = *x * s;
        }
        self
    }

    /// The product `self · other`.
    ///
    /// # Panics
    /// If the inner dimensions differ (a bug in the calling rule).
    pub fn matmul(&self, other: &Self) -> Self {
        assert_eq!(
            self.cols, other.rows,
            "matmul of {}×{} by {}×{}",
            self.rows, self.cols, other.rows, other.cols
        );
        let (k, n) = (self.cols, other.cols);
        product(
            self.rows,
            k,
            n,
            &self.data,
            (k as isize, 1),
            &other.data,
            (n as isize, 1),
        )
    }

    /// The Gram matrix `self · selfᵀ`.
    pub fn gram(&self) -> Self {
        let (n, k) = (self.rows, self.cols);
        // selfᵀ is self read with its strides swapped: no copy.
        product(
            n,
            k,
            n,
            &self.data,
            (k as isize, 1),
            &self.data,
            (1, k as isize),
        )
    }

    /// `alpha·self + beta·other`, elementwise.
    ///
    /// # Panics
    /// If the shapes differ (a bug in the calling rule).
    pub fn combine(mut self, alpha: F, other: &Self, beta: F) -> Self {
        assert!(
            self.rows == other.rows && self.cols == other.cols,
            "combine of matrices of different shapes"
        );
        for (x, &y) in self.data.iter_mut().zip(&other.data) {
            *x = *x * alpha + y * beta;
        }
        self
    }
}

/// Products of fewer multiply-adds than this run on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 21;

/// The `m × n` product of `a` (`m × k`) and `b` (`k × n`), each given with its (row,
/// column) strides. Rows of the result are cut into blocks that rayon's threads share
/// ([`super::share`]); each element is computed the same way whichever block holds it.
fn product<F: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[F],
    (rsa, csa): (isize, isize),
    b: &[F],
    (rsb, csb): (isize, isize),
) -> Matrix<F> {
    let mut data = vec![F::ZERO; m * n];
    if m > 0 && n > 0 {
        assert!(
            a.len() >= m * k && b.len() >= k * n,
            "matrix product of wrong sizes"
        );
        let threads = rayon::current_num_threads();
        let per = if threads > 1 && m * k * n >= PARALLEL_MIN_WORK {
            m.div_ceil(4 * threads).max(8)
        } else {
            m
        };
        let c = Shared(data.as_mut_ptr());
        super::share::for_each_piece(m.div_ceil(per), |i| {
            let first = i * per;
            let rows = per.min(m - first);
            // SAFETY: `a` holds m rows and `b` k × n elements at these strides (checked
            // above); blocks write disjoint rows of `data`, which no input overlaps.
            unsafe {
                F::gemm(
                    rows,
                    k,
                    n,
                    (a.as_ptr().offset(first as isize * rsa), rsa, csa),
                    (b.as_ptr(), rsb, csb),
                    (c.slice(first * n, rows * n).as_mut_ptr(), n as isize, 1),
                );
            }
        });
    }
    Matrix {
        rows: m,
        cols: n,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_hand_computed_values() {
        let a = Matrix::new(2, 3, vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = Matrix::new(3, 2, vec![7.0f64, 8.0, 9.0, 10.0, 11.0, 12.0]);
        assert_eq!(a.matmul(&b).data(), &[58.0, 64.0, 139.0, 154.0]);
        assert_eq!(a.t().data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(a.gram(), a.matmul(&a.t()));
        assert_eq!(a.gram().data(), &[14.0, 32.0, 32.0, 77.0]);
        let c = a.clone().combine(2.0, &a, -1.0);
        assert_eq!(c, a);
        assert!((a.norm() - 91.0f64.sqrt()).abs() < 1e-15);
    }
}
