//! [`TensorStep`]: one tensor during a tensor-level rule's step, with the passes and
//! reductions a rule runs over it.

use super::super::kernel::{self, flush_subnormal};
use super::super::share::Shared;
use super::reduce::*;
use crate::Float;

/// One tensor during a [`TensorRule`](crate::TensorRule)'s step: its parameter `p`, gradient `g`, state
/// buffers and an update buffer `u` (as long as the tensor, scratch space owned by the
/// engine), with the passes and reductions a rule runs over them.
///
/// The passes are vectorized and shared among threads like [`crate::Elementwise`]'s
/// loop. Give them `move` closures: each piece runs on a copy of the closure, so that
/// the scalars it holds stay in registers; a closure that borrows its scalars makes
/// every element read them from memory, which keeps the loop from vectorizing.
#[derive(Debug)]
pub struct TensorStep<'a, F> {
    name: &'a str,
    shape: &'a [usize],
    value: &'a mut [F],
    grad: &'a [F],
    update: &'a mut Vec<F>,
    state: &'a mut [Vec<F>],
    /// Σp² and Σu², kept by the pass that last read them while the values have not
    /// changed since, so that norms cost no extra read of the tensor.
    value_sq: Option<f64>,
    update_sq: Option<f64>,
    /// Scratch space for the partial sums of reductions, kept by the engine from step
    /// to step.
    scratch: &'a mut Vec<f64>,
}

impl<'a, F: Float> TensorStep<'a, F> {
    pub(in crate::engine) fn new(
        name: &'a str,
        shape: &'a [usize],
        value: &'a mut [F],
        grad: &'a [F],
        update: &'a mut Vec<F>,
        state: &'a mut [Vec<F>],
        scratch: &'a mut Vec<f64>,
    ) -> Self {
        TensorStep {
            name,
            shape,
            value,
            grad,
            update,
            state,
            value_sq: None,
            update_sq: None,
            scratch,
        }
    }
}

impl<F: Float> TensorStep<'_, F> {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// The parameter's shape.
    pub fn shape(&self) -> &[usize] {
        self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The shape as a batch of matrices: (batch, rows, columns) over the last two
    /// axes; `None` for tensors of fewer than two axes.
    pub fn matrix_dims(&self) -> Option<(usize, usize, usize)> {
        match *self.shape {
            [ref batch @ .., rows, cols] => Some((batch.iter().product(), rows, cols)),
            _ => None,
        }
    }

    /// The parameter's values.
    pub fn value(&self) -> &[F] {
        self.value
    }

    /// The gradient.
    pub fn grad(&self) -> &[F] {
        self.grad
    }

    /// The update computed so far.
    pub fn update(&mut self) -> &[F] {
        self.update_buffer()
    }

    /// The update, for a whole-tensor operation (e.g. Muon's Newton–Schulz iteration).
    pub fn update_mut(&mut self) -> &mut [F] {
        self.update_sq = None;
        self.update_buffer()
    }

    /// The engine's update buffer, as long as the tensor: allocated by the first pass
    /// that uses it, so that a rule that never stores an update (Adafactor on
    /// matrices) keeps no tensor-sized buffer.
    fn update_buffer(&mut self) -> &mut [F] {
        let n = self.value.len();
        if self.update.len() < n {
            self.update.resize(n, F::ZERO);
        }
        &mut self.update[..n]
    }

    /// The state buffers, in the order [`TensorRule::state_sizes`](crate::TensorRule::state_sizes) gave them.
    pub fn state_mut(&mut self) -> &mut [Vec<F>] {
        self.state
    }

    /// L2 norm of the parameter, accumulated in f64.
    pub fn value_norm(&mut self) -> f64 {
        let value = &*self.value;
        self.value_sq
            .get_or_insert_with(|| sum_squares(value))
            .sqrt()
    }

    /// L2 norm of the gradient, accumulated in f64.
    pub fn grad_norm(&self) -> f64 {
        sum_squares(self.grad).sqrt()
    }

    /// L2 norm of the update, accumulated in f64.
    pub fn update_norm(&mut self) -> f64 {
        let sq = match self.update_sq {
            Some(sq) => sq,
            None => sum_squares(self.update_buffer()),
        };
        self.update_sq = Some(sq);
        sq.sqrt()
    }

    /// `u ← f(p, g, s)` for every element, where `s` holds the element of each of the
    /// first `N` state buffers (each as long as the tensor), which `f` may change.
    /// State values below the smallest normal number are stored as zero, as in the
    /// elementwise engine (`kernel`).
    #[inline]
    pub fn set_update<const N: usize>(&mut self, f: impl Fn(F, F, &mut [F; N]) -> F + Copy + Sync) {
        let n = self.value.len();
        assert!(
            self.state.len() >= N && self.state[..N].iter().all(|s| s.len() == n),
            "set_update::<{N}> needs {N} state buffers as long as the tensor"
        );
        let p = Shared(self.value.as_mut_ptr());
        let g = Shared(self.grad.as_ptr().cast_mut());
        let u = Shared(self.update_buffer().as_mut_ptr());
        let s: [Shared<F>; N] = std::array::from_fn(|j| Shared(self.state[j].as_mut_ptr()));
        // A long update is streamed to memory (it is read by a later pass only), with
        // the norms of p and u summed as it is computed.
        let streams = std::mem::size_of_val(self.value) >= STREAM_MIN && kernel::can_stream(u.0);
        let sums = pieces(
            n,
            #[inline(always)]
            |a, m| {
                // A copy on this thread's stack, so that the closure's scalars stay in
                // registers (without it, the loop reads them from memory for every
                // element and does not vectorize).
                #[allow(clippy::redundant_locals)]
                let f = f;
                // SAFETY: pieces are disjoint ranges of 0..n, and every buffer holds n.
                let (p, g, u) = unsafe { (p.slice(a, m), g.slice(a, m), u.slice(a, m)) };
                let mut s: [&mut [F]; N] = std::array::from_fn(|j| unsafe { s[j].slice(a, m) });
                let mut sq = ([0.0f64; LANES], [0.0f64; LANES]);
                let whole = m - m % LANES;
                for i in (0..whole).step_by(LANES) {
                    let st = s.each_mut().map(|s| lanes_mut(&mut s[i..]));
                    let out;
                    (out, sq) = update_lanes(f, lanes_of(&p[i..]), lanes_of(&g[i..]), st, sq);
                    match streams {
                        // SAFETY: LANES elements of u, from a piece's start (a multiple
                        // of LANES elements from u's).
                        true => unsafe { kernel::stream(u[i..].as_mut_ptr(), &out) },
                        false => u[i..i + LANES].copy_from_slice(&out),
                    }
                }
                for (j, i) in (whole..m).enumerate() {
                    let mut st: [F; N] = std::array::from_fn(|k| s[k][i]);
                    u[i] = f(p[i], g[i], &mut st);
                    for k in 0..N {
                        s[k][i] = flush_subnormal(st[k]);
                    }
                    let (x, y) = (p[i].to_f64(), u[i].to_f64());
                    (sq.0[j], sq.1[j]) = (sq.0[j] + x * x, sq.1[j] + y * y);
                }
                kernel::stream_fence();
                let total = |sq: [f64; LANES]| sq.iter().fold(0.0, |t, &x| t + x);
                (total(sq.0), total(sq.1))
            },
        );
        self.value_sq = Some(sums.iter().fold(0.0, |t, s| t + s.0));
        self.update_sq = Some(sums.iter().fold(0.0, |t, s| t + s.1));
    }

    /// Σu² for the factored update `u = f(g, r, c)` of every element of a batch of
    /// matrices ([`Self::matrix_dims`]), where `r` holds the element's entry of each of
    /// `rows` (one per row, batch-major) and `c` its entry of each of `cols` (one per
    /// column); accumulated in f64. The update is not stored: [`Self::apply_factored`]
    /// computes it again where it applies it, which reads the gradient once more
    /// instead of writing and reading an update buffer.
    pub fn factored_sum_squares<const K: usize>(
        &self,
        rows: [&[F]; K],
        cols: [&[F]; K],
        f: impl Fn(F, [F; K], [F; K]) -> F + Copy + Sync,
    ) -> f64 {
        let dims = self.factored_dims(rows, cols);
        let nc = dims.2;
        let g = self.grad;
        let sums = for_row_blocks(
            dims,
            #[inline(always)]
            |first, count| {
                // A copy on this thread's stack (see set_update).
                #[allow(clippy::redundant_locals)]
                let f = f;
                let mut sum = 0.0;
                for row in first..first + count {
                    let r = std::array::from_fn(|k| rows[k][row]);
                    let c = std::array::from_fn(|k| cols_of(cols[k], row, dims));
                    sum += factored_row_sum_sq(f, &g[row * nc..(row + 1) * nc], r, c);
                }
                sum
            },
        );
        sums.into_iter().fold(0.0, |t, s| t + s)
    }

    /// `p ← h(p, f(g, r, c))` for every element of a batch of matrices: the factored
    /// update of [`Self::factored_sum_squares`] computed and applied in one pass.
    pub fn apply_factored<const K: usize>(
        &mut self,
        rows: [&[F]; K],
        cols: [&[F]; K],
        f: impl Fn(F, [F; K], [F; K]) -> F + Copy + Sync,
        h: impl Fn(F, F) -> F + Copy + Sync,
    ) {
        let dims = self.factored_dims(rows, cols);
        let nc = dims.2;
        let g = self.grad;
        let p = Shared(self.value.as_mut_ptr());
        for_row_blocks(
            dims,
            #[inline(always)]
            |first, count| {
                // Copies on this thread's stack (see set_update).
                #[allow(clippy::redundant_locals)]
                let (f, h) = (f, h);
                // SAFETY: blocks are disjoint ranges of whole rows.
                let block = unsafe { p.slice(first * nc, count * nc) };
                for (k, p) in block.chunks_exact_mut(nc).enumerate() {
                    let row = first + k;
                    let g = &g[row * nc..(row + 1) * nc];
                    let r = std::array::from_fn(|k| rows[k][row]);
                    let c = std::array::from_fn(|k| cols_of(cols[k], row, dims));
                    apply_row(f, h, p, g, r, c);
                }
            },
        );
        self.value_sq = None;
    }

    /// The matrix dimensions, checked against one factor per row and one per column.
    fn factored_dims<const K: usize>(
        &self,
        rows: [&[F]; K],
        cols: [&[F]; K],
    ) -> (usize, usize, usize) {
        let (batch, nr, nc) = self
            .matrix_dims()
            .expect("factored updates need a tensor of two axes or more");
        assert!(
            rows.iter().all(|r| r.len() == batch * nr)
                && cols.iter().all(|c| c.len() == batch * nc),
            "factored updates need one factor per row and one per column"
        );
        (batch, nr, nc)
    }

    /// `p ← f(p, u)` for every element.
    #[inline]
    pub fn apply(&mut self, f: impl Fn(F, F) -> F + Copy + Sync) {
        let n = self.value.len();
        self.update_buffer();
        let u = &self.update[..n];
        let p = Shared(self.value.as_mut_ptr());
        pieces(
            n,
            #[inline(always)]
            |a, m| {
                #[allow(clippy::redundant_locals)]
                let f = f; // as in set_update
                           // SAFETY: pieces are disjoint ranges of 0..n.
                let p = unsafe { p.slice(a, m) };
                for (p, &u) in p.iter_mut().zip(&u[a..a + m]) {
                    *p = f(*p, u);
                }
            },
        );
        self.value_sq = None;
    }

    /// `p ← f(p)` for every element (e.g. decoupled weight decay).
    #[inline]
    pub fn map_value(&mut self, f: impl Fn(F) -> F + Copy + Sync) {
        let p = Shared(self.value.as_mut_ptr());
        pieces(
            self.value.len(),
            #[inline(always)]
            |a, m| {
                #[allow(clippy::redundant_locals)]
                let f = f; // as in set_update
                           // SAFETY: pieces are disjoint ranges of the values.
                for p in unsafe { p.slice(a, m) } {
                    *p = f(*p);
                }
            },
        );
        self.value_sq = None;
    }

    /// Means of `f(g)` over each row (the last axis) and over each column (the axis
    /// before it) of a batch of matrices ([`Self::matrix_dims`]), accumulated in f64:
    /// `(rows, cols)`, batch-major.
    pub fn grad_row_col_means(&mut self, f: impl Fn(F) -> F + Copy + Sync) -> (Vec<F>, Vec<F>) {
        let (rows, cols, _) = self.row_col_stats(f, None::<fn(usize, F) -> f64>);
        (rows, cols)
    }

    /// [`Self::grad_row_col_means`], and in the same pass, for each column, the sum
    /// over its matrix's rows `i` of `f(g)·w(i, mean_i)`, where `mean_i` is row `i`'s
    /// mean (as returned): a reduction weighted by each row's statistics that would
    /// otherwise need another pass over the gradient (e.g. Adafactor's RMS of its
    /// factored update).
    pub fn grad_row_col_means_weighted(
        &mut self,
        f: impl Fn(F) -> F + Copy + Sync,
        w: impl Fn(usize, F) -> f64 + Copy + Sync,
    ) -> (Vec<F>, Vec<F>, Vec<f64>) {
        self.row_col_stats(f, Some(w))
    }

    fn row_col_stats(
        &mut self,
        f: impl Fn(F) -> F + Copy + Sync,
        weight: Option<impl Fn(usize, F) -> f64 + Copy + Sync>,
    ) -> (Vec<F>, Vec<F>, Vec<f64>) {
        let dims = self
            .matrix_dims()
            .expect("row and column means need a tensor of two axes or more");
        row_col_stats(self.grad, dims, self.scratch, f, weight)
    }

    /// `s ← s + w·(target − s)` for state buffer `k` (torch's `lerp_`), e.g. a moving
    /// average of a reduction.
    pub fn lerp_state(&mut self, k: usize, target: &[F], w: F) {
        let s = &mut self.state[k];
        assert_eq!(
            s.len(),
            target.len(),
            "lerp_state needs a target per element"
        );
        for (s, &x) in s.iter_mut().zip(target) {
            *s = *s + (x - *s) * w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tensor's buffers, zeroed, for the passes of a [`TensorStep`] over `grad`.
    struct Buffers {
        value: Vec<f64>,
        update: Vec<f64>,
        state: Vec<Vec<f64>>,
        scratch: Vec<f64>,
    }

    impl Buffers {
        fn new(len: usize, state: Vec<Vec<f64>>) -> Self {
            let (value, update, scratch) = (vec![0.0; len], vec![0.0; len], Vec::new());
            Buffers {
                value,
                update,
                state,
                scratch,
            }
        }

        fn step<'a>(&'a mut self, shape: &'a [usize], grad: &'a [f64]) -> TensorStep<'a, f64> {
            let b = self;
            TensorStep::new(
                "w",
                shape,
                &mut b.value,
                grad,
                &mut b.update,
                &mut b.state,
                &mut b.scratch,
            )
        }
    }

    #[test]
    fn row_and_column_statistics_of_a_batch_of_matrices() {
        // Two 2×3 matrices.
        let grad: Vec<f64> = (1..=12).map(f64::from).collect();
        let mut buffers = Buffers::new(12, vec![vec![1.0; 4], vec![0.0; 6]]);
        let mut x = buffers.step(&[2, 2, 3], &grad);
        assert_eq!(x.matrix_dims(), Some((2, 2, 3)));
        let (rows, cols) = x.grad_row_col_means(|g| g);
        assert_eq!(rows, vec![2.0, 5.0, 8.0, 11.0]);
        assert_eq!(cols, vec![2.5, 3.5, 4.5, 8.5, 9.5, 10.5]);
        // Weighted by a function of each row's index and mean: w = i + mean, i.e.
        // 2, 6 for the first matrix's rows, 10, 14 for the second's.
        let (wrows, wcols, weighted) = x.grad_row_col_means_weighted(|g| g, |i, m| i as f64 + m);
        assert_eq!((wrows, wcols), (rows.clone(), cols.clone()));
        assert_eq!(
            weighted,
            vec![
                1.0 * 2.0 + 4.0 * 6.0,
                2.0 * 2.0 + 5.0 * 6.0,
                3.0 * 2.0 + 6.0 * 6.0,
                7.0 * 10.0 + 10.0 * 14.0,
                8.0 * 10.0 + 11.0 * 14.0,
                9.0 * 10.0 + 12.0 * 14.0,
            ]
        );
        x.lerp_state(0, &rows, 0.5);
        assert_eq!(x.state_mut()[0], vec![1.5, 3.0, 4.5, 6.0]);
        // Two factors per row and per column, each element seeing its own.
        let rows2: Vec<f64> = rows.iter().map(|r| r * 10.0).collect();
        let cols2: Vec<f64> = cols.iter().map(|c| c + 1.0).collect();
        let f = |g: f64, [r, r2]: [f64; 2], [c, c2]: [f64; 2]| g - r * c + r2 / c2;
        let u: Vec<f64> = (0..12)
            .map(|i| {
                let (r, c) = (i / 3, (i / 6) * 3 + i % 3);
                f(grad[i], [rows[r], rows2[r]], [cols[c], cols2[c]])
            })
            .collect();
        assert_eq!(
            u[..3],
            [
                1.0 - 5.0 + 20.0 / 3.5,
                2.0 - 7.0 + 20.0 / 4.5,
                3.0 - 9.0 + 20.0 / 5.5
            ]
        );
        assert_eq!(u[11], 12.0 - 11.0 * 10.5 + 110.0 / 11.5);
        // Summed by row, the rows by matrix, then the matrices.
        let by_row: Vec<f64> = u.chunks(3).map(|r| r.iter().map(|u| u * u).sum()).collect();
        let sq = (by_row[0] + by_row[1]) + (by_row[2] + by_row[3]);
        let (r, c) = ([&rows[..], &rows2], [&cols[..], &cols2]);
        assert_eq!(x.factored_sum_squares(r, c, f), sq);
        x.apply_factored(r, c, f, |p, u| p - u);
        let expect: Vec<f64> = u.iter().map(|u| -u).collect();
        assert_eq!(x.value(), &expect[..]);
    }

    #[test]
    fn set_update_over_pieces_lanes_and_a_rest() {
        // Pieces, the last of two whole lanes and a rest; one state value becomes
        // subnormal and is stored as zero. The update stays in the caches, then is
        // streamed to memory.
        for n in [PIECE, STREAM_MIN / 8].map(|n| n + 2 * LANES + 5) {
            set_update_of(n);
        }
    }

    fn set_update_of(n: usize) {
        let grad: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
        let p: Vec<f64> = (0..n)
            .map(|i| ((i * 13) % 11) as f64 * 0.25 - 1.0)
            .collect();
        let mut state = vec![(0..n).map(|i| i as f64).collect::<Vec<f64>>()];
        state[0][3] = 1e-308; // where g = 0
        let mut buffers = Buffers::new(n, state.clone());
        buffers.value.copy_from_slice(&p);
        let shape = [n];
        let mut x = buffers.step(&shape, &grad);
        let f = |p: f64, g: f64, [s]: &mut [f64; 1]| {
            *s = *s * 0.5 + g * 1e-9;
            p * 2.0 - g + *s
        };
        x.set_update(f);
        let (p_norm, u_norm) = (x.value_norm(), x.update_norm());
        let mut expect_s = state[0].clone();
        let expect_u: Vec<f64> = (0..n)
            .map(|i| {
                let mut s = [expect_s[i]];
                let u = f(p[i], grad[i], &mut s);
                expect_s[i] = if s[0].abs() < f64::MIN_POSITIVE {
                    0.0
                } else {
                    s[0]
                };
                u
            })
            .collect();
        assert_eq!(expect_s[3], 0.0, "the test's subnormal");
        assert_eq!(x.update(), &expect_u[..]);
        assert_eq!(x.state_mut()[0], expect_s);
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * b; // a plain sum of n terms
        assert!(close(p_norm, norm(&p)), "{p_norm} vs {}", norm(&p));
        assert!(
            close(u_norm, norm(&expect_u)),
            "{u_norm} vs {}",
            norm(&expect_u)
        );
        // Kept from the pass, and the same as summing the buffers afterwards.
        assert_eq!(p_norm, sum_squares(&p).sqrt());
        assert_eq!(u_norm, sum_squares(&expect_u).sqrt());
    }

    #[test]
    fn weighted_row_and_column_statistics_of_longer_matrices() {
        // 13 rows: groups of rows whose sums are taken while the group before them is
        // added (rows 0..8), one whose sums are taken alone (8..12), and a row left
        // over; 37 columns: whole lanes and a rest. Compared with sums taken plainly.
        let (batch, nr, nc) = (2, 13, 37);
        let grad: Vec<f64> = (0..batch * nr * nc)
            .map(|i| ((i * 7919) % 23) as f64 - 11.0)
            .collect();
        let (mut buffers, shape) = (Buffers::new(grad.len(), Vec::new()), [batch, nr, nc]);
        let mut x = buffers.step(&shape, &grad);
        let weight = |i: usize, mean: f64| 1.0 / (1.0 + i as f64 + mean);
        let (rows, cols, weighted) = x.grad_row_col_means_weighted(|g| g * g, weight);
        let g = |b: usize, i: usize, j: usize| grad[(b * nr + i) * nc + j];
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs();
        for b in 0..batch {
            for i in 0..nr {
                let mean = (0..nc).map(|j| g(b, i, j).powi(2)).sum::<f64>() / nc as f64;
                assert!(close(rows[b * nr + i], mean), "matrix {b}, row {i}");
            }
            for j in 0..nc {
                let col = |w: &dyn Fn(usize) -> f64| -> f64 {
                    (0..nr).map(|i| g(b, i, j).powi(2) * w(i)).sum()
                };
                let mean = col(&|_| 1.0) / nr as f64;
                let w = col(&|i| weight(b * nr + i, rows[b * nr + i]));
                assert!(close(cols[b * nc + j], mean), "matrix {b}, column {j}");
                assert!(close(weighted[b * nc + j], w), "matrix {b}, column {j}");
            }
        }
        // The plain means are the same numbers.
        assert_eq!(x.grad_row_col_means(|g| g * g), (rows, cols));
    }

    #[test]
    fn row_and_column_means_of_matrices_without_columns_or_rows() {
        for shape in [[3usize, 0], [0, 4]] {
            let mut buffers = Buffers::new(0, Vec::new());
            let mut x = buffers.step(&shape, &[]);
            let (rows, cols, weighted) = x.grad_row_col_means_weighted(|g| g, |_, m| m);
            // The mean of no elements is 0/0.
            assert_eq!((rows.len(), cols.len()), (shape[0], shape[1]), "{shape:?}");
            assert!(rows.iter().chain(&cols).all(|m| m.is_nan()), "{shape:?}");
            assert_eq!(weighted, vec![0.0; shape[1]], "{shape:?}");
            let (rows, cols) = x.grad_row_col_means(|g| g);
            assert_eq!((rows.len(), cols.len()), (shape[0], shape[1]), "{shape:?}");
        }
    }
}
