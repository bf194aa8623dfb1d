//! Dense matrices for tensor-level rules that need matrix products, such as Muon's
//! Newton–Schulz iteration: the engine owns these loops, as it owns the elementwise
//! ones, so that a faster product makes every such rule faster.

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
        let (n, m) = (self.rows, other.cols);
        let mut data = vec![F::ZERO; n * m];
        for i in 0..n {
            let out = &mut data[i * m..(i + 1) * m];
            for k in 0..self.cols {
                let a = self.data[i * self.cols + k];
                let row = &other.data[k * m..(k + 1) * m];
                for (o, &b) in out.iter_mut().zip(row) {
                    *o = *o + a * b;
                }
            }
        }
        Matrix {
            rows: n,
            cols: m,
            data,
        }
    }

    /// The Gram matrix `self · selfᵀ`.
    pub fn gram(&self) -> Self {
        let n = self.rows;
        let mut data = vec![F::ZERO; n * n];
        for i in 0..n {
            let a = &self.data[i * self.cols..(i + 1) * self.cols];
            for j in 0..n {
                let b = &self.data[j * self.cols..(j + 1) * self.cols];
                data[i * n + j] = a.iter().zip(b).fold(F::ZERO, |s, (&x, &y)| s + x * y);
            }
        }
        Matrix {
            rows: n,
            cols: n,
            data,
        }
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
