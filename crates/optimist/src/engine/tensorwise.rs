//! Tensor-level rules: optimizers whose update of an element also depends on
//! reductions over its whole tensor (norms, row and column means) or on matrix
//! products, such as LAMB's trust ratio, Adafactor's factored second moment and Muon's
//! orthogonalization.
//!
//! A [`TensorRule`] states the passes of one tensor's update in order; the engine runs
//! every elementwise pass and reduction through [`TensorStep`], so that the rule's file
//! holds no loop over elements and reads like its formulas.

use super::kernel::{self, flush_subnormal};
use super::share::{self, Shared};
use super::{
    next_count, set_hyperparameter, set_learning_rate, step_scalars, Guard, NamedState, NonFinite,
    Optimizer, State,
};
use crate::hyper::{Configurable, Value};
use crate::saved::{self, CarryState};
use crate::{Error, Float, Param};

/// An optimizer whose update of one tensor runs in passes: elementwise passes that
/// compute an update `u` and apply it, with per-tensor reductions between them.
///
/// State is explicit data: each tensor gets the buffers [`TensorRule::state_sizes`]
/// asks for, all zeros at the start, which the passes read and write.
pub trait TensorRule<F: Float>: Configurable + Send + Sync + 'static {
    /// Scalars computed once per step (learning rate, bias corrections).
    type Step: Copy + Send + Sync;

    /// Scalar state carried from one step to the next, starting at its `Default`.
    type Carry: CarryState;

    /// The name of each state buffer of a tensor of `shape`, in the order of
    /// [`TensorRule::state_sizes`]: torch's names, optax's for optax's rules.
    fn state_names(&self, shape: &[usize]) -> Vec<&'static str>;

    /// The lengths of the state buffers a tensor named `name` of `shape` needs, or an
    /// error if the rule cannot update such a tensor (checked on the first step,
    /// before any tensor changes).
    fn state_sizes(&self, name: &str, shape: &[usize]) -> Result<Vec<usize>, Error>;

    /// The per-step scalars of step `t` (1 for the first step), advancing `carry`.
    fn step(&self, t: u64, carry: &mut Self::Carry) -> Self::Step;

    /// Updates one tensor.
    fn update(k: Self::Step, x: &mut TensorStep<'_, F>);
}

/// One tensor during a [`TensorRule`]'s step: its parameter `p`, gradient `g`, state
/// buffers and an update buffer `u` (as long as the tensor, scratch space owned by the
/// engine), with the passes and reductions a rule runs over them.
///
/// The passes are vectorized and shared among threads like [`crate::Elementwise`]'s
/// loop. Give them `move` closures: each piece runs on a copy of the closure, so that
/// the scalars it holds stay in registers; a closure that borrows its scalars makes
/// every element read them from memory, which keeps the loop from vectorizing
/// (measured: LAMB over 16 M parameters, 5.7 ns per parameter on one thread that
/// way).
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
    fn new(
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

    /// The state buffers, in the order [`TensorRule::state_sizes`] gave them.
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
                // registers (without it, LAMB's step is 2.3x slower).
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
        let (batch, nr, nc) = self
            .matrix_dims()
            .expect("row and column means need a tensor of two axes or more");
        let g = self.grad;
        let blocks = RowBlocks::new((batch, nr, nc));
        // Each block of rows writes its rows' sums, and its part of its matrix's column
        // sums (and weighted sums) in its own part of the engine's scratch space (kept
        // from step to step: allocating it for each step cost a page fault per 4 KiB,
        // +20% on the pass).
        let parts = if weight.is_some() { 2 } else { 1 };
        let mut rows = vec![0.0f64; batch * nr];
        self.scratch.resize(blocks.len() * parts * nc, 0.0);
        let (all_sums, scratch) = (Shared(rows.as_mut_ptr()), Shared(self.scratch.as_mut_ptr()));
        blocks.run(
            #[inline(always)]
            |block, first, count| {
                #[allow(clippy::redundant_locals)]
                let (f, weight) = (f, weight); // as in set_update
                                               // SAFETY: each block writes its own rows and its own part of the scratch.
                let (sums, part) = unsafe {
                    (
                        all_sums.slice(first, count),
                        scratch.slice(block * parts * nc, parts * nc),
                    )
                };
                part.fill(0.0);
                let (cols, weighted) = part.split_at_mut(nc);
                let row = |i: usize| &g[(first + i) * nc..(first + i + 1) * nc];
                let group = |i: usize| std::array::from_fn(|k| row(i + k));
                let whole = count - count % TOGETHER;
                // With weights, a group's sums are taken before its columns are added
                // (the weights need them): by the pass that adds the group before it.
                let mut next: Option<[f64; TOGETHER]> = None;
                for i in (0..whole).step_by(TOGETHER) {
                    let g = group(i);
                    let s = match weight {
                        None => add_rows::<F, TOGETHER>(f, g, cols),
                        Some(weight) => {
                            let s = next.take().unwrap_or_else(|| row_sums(f, g));
                            let w = weights(weight, first + i, s, nc);
                            let then = (i + 2 * TOGETHER <= count).then(|| group(i + TOGETHER));
                            next = add_rows_weighted(f, g, w, cols, weighted, then);
                            s
                        }
                    };
                    sums[i..i + TOGETHER].copy_from_slice(&s);
                }
                for (i, sum) in sums.iter_mut().enumerate().skip(whole) {
                    *sum = add_group::<F, 1>(f, weight, first + i, [row(i)], cols, weighted)[0];
                }
            },
        );
        // Each matrix's column sums: its blocks' parts, added in order.
        let mut cols = vec![0.0f64; batch * nc];
        let mut weighted = vec![0.0f64; if parts == 2 { batch * nc } else { 0 }];
        let used = &self.scratch[..blocks.len() * parts * nc];
        // (Matrices without columns have no parts to add; chunks must not be empty.)
        for (i, part) in used.chunks((parts * nc).max(1)).enumerate() {
            let b = i / blocks.blocks;
            let add = |to: &mut [f64], from: &[f64]| {
                for (t, x) in to[b * nc..(b + 1) * nc].iter_mut().zip(from) {
                    *t += x;
                }
            };
            add(&mut cols, &part[..nc]);
            if parts == 2 {
                add(&mut weighted, &part[nc..]);
            }
        }
        let rows = rows.into_iter().map(|s| F::from_f64(s / nc as f64));
        let cols = cols.into_iter().map(|s| F::from_f64(s / nr as f64));
        (rows.collect(), cols.collect(), weighted)
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

/// Elements in each piece of a pass. Reductions sum each piece in [`LANES`] partial
/// sums, then the pieces in order, so that a sum is the same on any number of threads
/// and with any instruction set.
const PIECE: usize = 1 << 13;

/// Partial sums of a reduction: enough that the additions vectorize.
const LANES: usize = 16;

/// The fewest bytes of an update that [`TensorStep::set_update`] streams to memory
/// ([`kernel::stream`]): a shorter one stays in the caches for the pass that reads it
/// (LAMB over n float32 values, ns per value, plain / streamed: 110 K 0.70 / 0.75,
/// 4 M 0.74 / 0.76, 8 M 0.82 / 0.81, 16 M 1.08 / 0.93, 64 M 1.15 / 1.0).
const STREAM_MIN: usize = 32 << 20;

/// Passes over fewer elements than this run on one thread.
const PARALLEL_MIN: usize = 1 << 15;

/// `body(start, len)` for each [`PIECE`] of `0..n`; the results in order.
fn pieces<T: Send>(n: usize, body: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
    run_pieces(
        n.div_ceil(PIECE),
        n >= PARALLEL_MIN,
        #[inline(always)]
        |i| {
            let a = i * PIECE;
            body(a, PIECE.min(n - a))
        },
    )
}

/// `body(first, count)` for blocks of whole rows of a batch of matrices (see
/// [`RowBlocks`]); the results in order.
fn for_row_blocks<T: Send>(
    dims: (usize, usize, usize),
    body: impl Fn(usize, usize) -> T + Sync,
) -> Vec<T> {
    RowBlocks::new(dims).run(
        #[inline(always)]
        |_, first, count| body(first, count),
    )
}

/// Blocks of whole rows (about a [`PIECE`] of elements each) of a batch of `batch`
/// matrices of `rows` × `cols`, rows numbered batch-major; a block never spans two
/// matrices.
#[derive(Debug, Clone, Copy)]
struct RowBlocks {
    batch: usize,
    rows: usize,
    /// Rows per block, and blocks per matrix.
    per: usize,
    blocks: usize,
    parallel: bool,
}

impl RowBlocks {
    fn new((batch, rows, cols): (usize, usize, usize)) -> Self {
        // Whole rows of about a PIECE, but at most BLOCKS blocks per matrix, so that
        // merging the blocks' column sums stays small beside the matrix.
        let per = (PIECE / cols.max(1)).max(rows.div_ceil(BLOCKS)).max(1);
        RowBlocks {
            batch,
            rows,
            per,
            blocks: rows.div_ceil(per),
            parallel: batch * rows * cols >= PARALLEL_MIN,
        }
    }

    /// The number of blocks.
    fn len(&self) -> usize {
        self.batch * self.blocks
    }

    /// `body(i, first, count)` for each block `i`, whose rows are `first..first +
    /// count`; the results in order.
    #[inline(always)]
    fn run<T: Send>(&self, body: impl Fn(usize, usize, usize) -> T + Sync) -> Vec<T> {
        let RowBlocks {
            rows, per, blocks, ..
        } = *self;
        run_pieces(
            self.len(),
            self.parallel,
            #[inline(always)]
            |i| {
                let (b, k) = (i / blocks, i % blocks);
                let first = k * per;
                body(i, b * rows + first, per.min(rows - first))
            },
        )
    }
}

/// Rows added to the column sums in one pass over them (see [`add_rows`]).
const TOGETHER: usize = 4;

/// The most blocks of rows a matrix is cut into (see [`for_row_blocks`]).
const BLOCKS: usize = 64;

/// `run(i)` for `i` in `0..count`, each compiled for the engine's instruction set
/// ([`kernel::vectorized`]), shared among the engine's threads if `parallel`; the
/// results in order.
#[inline(always)]
fn run_pieces<T: Send>(count: usize, parallel: bool, run: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let run = |i: usize| {
        kernel::vectorized(
            #[inline(always)]
            || run(i),
        )
    };
    if !parallel || rayon::current_num_threads() == 1 {
        return (0..count).map(run).collect();
    }
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let slots = Shared(out.as_mut_ptr());
    // SAFETY: each piece writes its own slot.
    share::for_each_piece(count, |i| unsafe { slots.slice(i, 1)[0] = Some(run(i)) });
    out.into_iter()
        .map(|x| x.expect("every piece runs"))
        .collect()
}

/// The column factors of the matrix that holds `row` (rows numbered batch-major).
#[inline(always)]
fn cols_of<F>(cols: &[F], row: usize, (_, nr, nc): (usize, usize, usize)) -> &[F] {
    let b = row / nr;
    &cols[b * nc..(b + 1) * nc]
}

/// Σu² of `u = f(g, r, c)` along one row, in [`LANES`] partial sums (a function of its
/// own so that its slices are known not to overlap, and the loop vectorizes).
#[inline(always)]
fn factored_row_sum_sq<F: Float, const K: usize>(
    f: impl Fn(F, [F; K], [F; K]) -> F,
    g: &[F],
    r: [F; K],
    cols: [&[F]; K],
) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut add = |g: &[F], c: [&[F]; K]| {
        kernel::prefetch_ahead(g.as_ptr());
        for (j, acc) in acc.iter_mut().enumerate().take(g.len()) {
            let u = f(g[j], r, std::array::from_fn(|k| c[k][j])).to_f64();
            *acc += u * u;
        }
    };
    let whole = g.len() - g.len() % LANES;
    for a in (0..whole).step_by(LANES) {
        add(
            &g[a..a + LANES],
            std::array::from_fn(|k| &cols[k][a..a + LANES]),
        );
    }
    add(&g[whole..], std::array::from_fn(|k| &cols[k][whole..]));
    acc.iter().fold(0.0, |s, &a| s + a)
}

/// `p ← h(p, f(g, r, c))` along one row.
#[inline(always)]
fn apply_row<F: Float, const K: usize>(
    f: impl Fn(F, [F; K], [F; K]) -> F,
    h: impl Fn(F, F) -> F,
    p: &mut [F],
    g: &[F],
    r: [F; K],
    cols: [&[F]; K],
) {
    let apply = |p: &mut [F], g: &[F], c: [&[F]; K]| {
        kernel::prefetch_ahead(p.as_ptr());
        kernel::prefetch_ahead(g.as_ptr());
        for (j, p) in p.iter_mut().enumerate() {
            *p = h(*p, f(g[j], r, std::array::from_fn(|k| c[k][j])));
        }
    };
    let n = p.len();
    let whole = n - n % LANES;
    let (p, rest) = p.split_at_mut(whole);
    for (a, p) in (0..whole).step_by(LANES).zip(p.chunks_exact_mut(LANES)) {
        apply(
            p,
            &g[a..a + LANES],
            std::array::from_fn(|k| &cols[k][a..a + LANES]),
        );
    }
    apply(
        rest,
        &g[whole..n],
        std::array::from_fn(|k| &cols[k][whole..n]),
    );
}

/// Adds `f(g)` of each of `ROWS` rows in turn to `cols`, element by element, and
/// returns each row's sum of `f(g)` in [`LANES`] partial sums: several rows for one
/// pass over the column sums, which are read and written in the core's cache for each
/// pass (the same additions in the same order as one row after the other).
#[inline(always)]
fn add_rows<F: Float, const ROWS: usize>(
    f: impl Fn(F) -> F,
    rows: [&[F]; ROWS],
    cols: &mut [f64],
) -> [f64; ROWS] {
    let mut sums = [[0.0f64; LANES]; ROWS];
    let mut add = |c: &mut [f64], g: [&[F]; ROWS]| {
        for g in g {
            kernel::prefetch_ahead(g.as_ptr());
        }
        for (j, c) in c.iter_mut().enumerate() {
            let mut cj = *c; // kept in a register over the rows
            for (k, g) in g.iter().enumerate() {
                let x = f(g[j]).to_f64();
                cj += x;
                sums[k][j] += x;
            }
            *c = cj;
        }
    };
    let n = cols.len();
    let whole = n - n % LANES;
    let (c, rest) = cols.split_at_mut(whole);
    for (i, c) in (0..whole).step_by(LANES).zip(c.chunks_exact_mut(LANES)) {
        add(c, std::array::from_fn(|k| &rows[k][i..i + LANES]));
    }
    add(rest, std::array::from_fn(|k| &rows[k][whole..n]));
    sums.map(|s| s.iter().fold(0.0, |t, &x| t + x))
}

/// Adds `f(g)` of each of `ROWS` rows (numbered from `first`) to `cols` and, with a
/// `weight`, `f(g)·weight(i, mean_i)` to `weighted`; each row's sum of `f(g)`.
#[inline(always)]
fn add_group<F: Float, const ROWS: usize>(
    f: impl Fn(F) -> F,
    weight: Option<impl Fn(usize, F) -> f64>,
    first: usize,
    rows: [&[F]; ROWS],
    cols: &mut [f64],
    weighted: &mut [f64],
) -> [f64; ROWS] {
    let Some(weight) = weight else {
        return add_rows(f, rows, cols);
    };
    // The weights need the rows' means first: the rows are read twice, the second time
    // from the core's cache.
    let sums = row_sums(&f, rows);
    add_rows_weighted(
        f,
        rows,
        weights(weight, first, sums, cols.len()),
        cols,
        weighted,
        None,
    );
    sums
}

/// The weights of rows `first..` from their sums over `n` columns.
#[inline(always)]
fn weights<F: Float, const ROWS: usize>(
    weight: impl Fn(usize, F) -> f64,
    first: usize,
    sums: [f64; ROWS],
    n: usize,
) -> [f64; ROWS] {
    std::array::from_fn(|k| weight(first + k, F::from_f64(sums[k] / n as f64)))
}

/// Each row's sum of `f(g)`, in [`LANES`] partial sums (the same as [`add_rows`]').
#[inline(always)]
fn row_sums<F: Float, const ROWS: usize>(f: impl Fn(F) -> F, rows: [&[F]; ROWS]) -> [f64; ROWS] {
    let mut sums = [[0.0f64; LANES]; ROWS];
    let n = rows[0].len();
    let whole = n - n % LANES;
    for i in (0..whole).step_by(LANES) {
        sum_lanes(&f, &mut sums, lanes(rows, i));
    }
    sum_lanes(&f, &mut sums, std::array::from_fn(|k| &rows[k][whole..n]));
    sums.map(|s| s.iter().fold(0.0, |t, &x| t + x))
}

/// Elements `i..i + LANES` of each row.
#[inline(always)]
fn lanes<F, const ROWS: usize>(rows: [&[F]; ROWS], i: usize) -> [&[F]; ROWS] {
    rows.map(|g| &g[i..i + LANES])
}

/// Adds `f(g)` of up to [`LANES`] elements of each row to its partial sums.
#[inline(always)]
fn sum_lanes<F: Float, const ROWS: usize>(
    f: impl Fn(F) -> F,
    sums: &mut [[f64; LANES]; ROWS],
    g: [&[F]; ROWS],
) {
    for (g, sums) in g.iter().zip(sums) {
        kernel::prefetch_ahead(g.as_ptr());
        for (s, &x) in sums.iter_mut().zip(*g) {
            *s += f(x).to_f64();
        }
    }
}

/// Adds `f(g)` of each of `ROWS` rows in turn to `cols`, and `f(g)·w` (each row's
/// weight `w`) to `weighted`, element by element; with `then`, the next rows, returns
/// their sums (as [`row_sums`]), taken in the same loop: memory streams in their
/// rows while this group's are added from the cache.
#[inline(always)]
fn add_rows_weighted<F: Float, const ROWS: usize>(
    f: impl Fn(F) -> F,
    rows: [&[F]; ROWS],
    w: [f64; ROWS],
    cols: &mut [f64],
    weighted: &mut [f64],
    then: Option<[&[F]; ROWS]>,
) -> Option<[f64; ROWS]> {
    let add = |c: &mut [f64], v: &mut [f64], g: [&[F]; ROWS]| {
        for (j, (c, v)) in c.iter_mut().zip(v).enumerate() {
            // Kept in registers over the rows, not stored for each row.
            let (mut cj, mut vj) = (*c, *v);
            for (g, &w) in g.iter().zip(&w) {
                let x = f(g[j]).to_f64();
                cj += x;
                vj += x * w;
            }
            (*c, *v) = (cj, vj);
        }
    };
    let mut sums = [[0.0f64; LANES]; ROWS];
    let n = cols.len();
    let whole = n - n % LANES;
    let (c, c_rest) = cols.split_at_mut(whole);
    let (v, v_rest) = weighted[..n].split_at_mut(whole);
    let chunks = c.chunks_exact_mut(LANES).zip(v.chunks_exact_mut(LANES));
    match then {
        Some(next) => {
            for (i, (c, v)) in (0..whole).step_by(LANES).zip(chunks) {
                sum_lanes(&f, &mut sums, lanes(next, i));
                add(c, v, lanes(rows, i));
            }
        }
        None => {
            for (i, (c, v)) in (0..whole).step_by(LANES).zip(chunks) {
                add(c, v, lanes(rows, i));
            }
        }
    }
    add(c_rest, v_rest, std::array::from_fn(|k| &rows[k][whole..n]));
    then.map(|next| {
        sum_lanes(&f, &mut sums, std::array::from_fn(|k| &next[k][whole..n]));
        sums.map(|s| s.iter().fold(0.0, |t, &x| t + x))
    })
}

/// `f` ([`TensorStep::set_update`]'s) for [`LANES`] elements: their updates, and `sq`'s
/// partial sums with the squares of `p` and of the updates added.
#[inline(always)]
fn update_lanes<F: Float, const N: usize>(
    f: impl Fn(F, F, &mut [F; N]) -> F,
    p: &[F; LANES],
    g: &[F; LANES],
    s: [&mut [F; LANES]; N],
    mut sq: ([f64; LANES], [f64; LANES]),
) -> ([F; LANES], ([f64; LANES], [f64; LANES])) {
    let mut out = [F::ZERO; LANES];
    for j in 0..LANES {
        let mut st: [F; N] = std::array::from_fn(|k| s[k][j]);
        out[j] = f(p[j], g[j], &mut st);
        for k in 0..N {
            s[k][j] = flush_subnormal(st[k]);
        }
        let (x, y) = (p[j].to_f64(), out[j].to_f64());
        sq.0[j] += x * x;
        sq.1[j] += y * y;
    }
    (out, sq)
}

/// `LANES` elements from the start of `x`, as an array.
#[inline(always)]
fn lanes_of<F>(x: &[F]) -> &[F; LANES] {
    x[..LANES].try_into().expect("LANES elements")
}

/// [`lanes_of`], mutable.
#[inline(always)]
fn lanes_mut<F>(x: &mut [F]) -> &mut [F; LANES] {
    (&mut x[..LANES]).try_into().expect("LANES elements")
}

/// The sum of squares of one piece, in [`LANES`] partial sums.
#[inline(always)]
fn sum_sq<F: Float>(xs: &[F]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        kernel::prefetch_ahead(c.as_ptr());
        for j in 0..LANES {
            let x = c[j].to_f64();
            acc[j] += x * x;
        }
    }
    for (j, &x) in chunks.remainder().iter().enumerate() {
        let x = x.to_f64();
        acc[j] += x * x;
    }
    acc.iter().fold(0.0, |s, &a| s + a)
}

/// The sum of squares of `xs`, accumulated in f64: in pieces, vectorized and on the
/// engine's threads for long slices, with the same result on any number of threads.
pub fn sum_squares<F: Float>(xs: &[F]) -> f64 {
    pieces(
        xs.len(),
        #[inline(always)]
        |a, m| sum_sq(&xs[a..a + m]),
    )
    .into_iter()
    .fold(0.0, |s, x| s + x)
}

/// Runs a [`TensorRule`] as an [`Optimizer`].
#[derive(Debug, Clone)]
pub struct Tensorwise<F: Float, R: TensorRule<F>> {
    rule: R,
    state: State<F, R::Carry>,
    update: Vec<F>,
    scratch: Vec<f64>,
    guard: Guard,
}

impl<F: Float, R: TensorRule<F>> Tensorwise<F, R> {
    /// The optimizer for `rule`, after checking its hyperparameters.
    pub fn new(rule: R) -> Result<Self, Error> {
        rule.validate()?;
        Ok(Tensorwise {
            rule,
            state: State::default(),
            update: Vec::new(),
            scratch: Vec::new(),
            guard: Guard::default(),
        })
    }

    /// The rule's hyperparameters.
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// The state: step count and per-tensor state (step count, carried scalars,
    /// buffers).
    pub fn state(&self) -> &State<F, R::Carry> {
        &self.state
    }
}

impl<F: Float, R: TensorRule<F>> Optimizer<F> for Tensorwise<F, R> {
    fn name(&self) -> &'static str {
        R::info().name
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.rule.values()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        if params.is_empty() {
            return Ok(());
        }
        let t = next_count(self.state.t, "step count")?;
        let rule = &self.rule;
        let known = self.state.tensors.len();
        let index = self
            .state
            .bind_sized(params, |p| rule.state_sizes(p.name, p.shape))?;
        if !self.state.admit(&mut self.guard, params, known)? {
            return Ok(());
        }
        let tensors = &mut self.state.tensors;
        let ks = match step_scalars(tensors, &index, |t, c| rule.step(t, c)) {
            Ok(ks) => ks,
            Err(e) => {
                tensors.truncate(known);
                return Err(e);
            }
        };
        for ((p, &j), k) in params.iter_mut().zip(&index).zip(ks) {
            let mut x = TensorStep::new(
                p.name,
                p.shape,
                &mut *p.value,
                p.grad,
                &mut self.update,
                &mut tensors[j].slots,
                &mut self.scratch,
            );
            R::update(k, &mut x);
        }
        self.state.t = t;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.state.t
    }

    fn reset(&mut self) {
        self.state = State::default();
        self.guard.skipped = 0;
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        set_learning_rate(&mut self.rule, lr)
    }

    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        set_hyperparameter(&mut self.rule, key, value)
    }

    fn set_nonfinite(&mut self, policy: NonFinite) -> Result<(), Error> {
        self.guard.policy = policy;
        Ok(())
    }

    fn nonfinite(&self) -> NonFinite {
        self.guard.policy
    }

    fn skipped_steps(&self) -> u64 {
        self.guard.skipped
    }

    fn save_state(&self) -> Result<Vec<u8>, Error> {
        Ok(saved::save_engine(&self.rule, &self.state, &self.guard))
    }

    fn state_tensors(&self) -> Vec<String> {
        self.state.tensors.iter().map(|s| s.name.clone()).collect()
    }

    fn state_of(&self, tensor: &str) -> Option<NamedState<F>> {
        self.state
            .named(tensor, |shape| self.rule.state_names(shape))
    }

    fn load_tensor_state(&mut self, tensor: &str, state: NamedState<F>) -> Result<(), Error> {
        let rule = &self.rule;
        self.state.load_named(
            R::info().name,
            tensor,
            state,
            |shape| rule.state_names(shape),
            |name, shape| rule.state_sizes(name, shape),
        )
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let rule = &self.rule;
        let loaded = saved::load_engine(
            bytes,
            rule,
            &self.state,
            |name, shape| rule.state_sizes(name, shape),
            |shape| rule.state_names(shape),
        )?;
        self.state = loaded.state;
        self.guard.skipped = loaded.skipped;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::Range;
    use crate::{registry, Convention, Params, Tensor};

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

    crate::config! {
        /// Normalized gradient descent with momentum, to exercise the hook:
        /// b ← momentum·b + g;  p ← p − lr·b/‖b‖.
        pub struct NormalizedSgd {
            name: "normalized_sgd", convention: "article",
            formula: "b ← momentum·b + g; p ← p − lr·b/‖b‖",
            paper: "none (a test rule)";
            /// Learning rate.
            lr: f64 = 0.1, Range::Positive;
            /// Momentum.
            momentum: f64 = 0.5, Range::Unit;
        }
    }

    impl TensorRule<f64> for NormalizedSgd {
        type Step = (f64, f64);
        type Carry = ();
        fn state_names(&self, _: &[usize]) -> Vec<&'static str> {
            vec!["momentum_buffer"]
        }
        fn state_sizes(&self, _: &str, shape: &[usize]) -> Result<Vec<usize>, Error> {
            Ok(vec![shape.iter().product()])
        }
        fn step(&self, _: u64, _: &mut ()) -> (f64, f64) {
            (self.lr, self.momentum)
        }
        fn update((lr, momentum): (f64, f64), x: &mut TensorStep<'_, f64>) {
            x.set_update(move |_, g, [b]| {
                *b = momentum * *b + g;
                *b
            });
            let step = lr / x.update_norm();
            x.apply(move |p, u| p - u * step);
        }
    }

    #[test]
    fn a_tensor_rule_runs_its_passes_per_tensor_with_its_state() {
        let mut opt = Tensorwise::new(NormalizedSgd::default()).unwrap();
        let mut params: Params<f64> = [
            ("w", Tensor::new([2, 2], vec![1.0, 1.0, 1.0, 1.0]).unwrap()),
            ("b", Tensor::vector(vec![0.0])),
        ]
        .into_iter()
        .collect();
        let grads: Params<f64> = [
            ("w", Tensor::new([2, 2], vec![3.0, 0.0, 0.0, 4.0]).unwrap()),
            ("b", Tensor::vector(vec![-2.0])),
        ]
        .into_iter()
        .collect();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(
            params.get("w").unwrap().data(),
            &[1.0 - 0.06, 1.0, 1.0, 1.0 - 0.08]
        );
        assert_eq!(params.get("b").unwrap().data(), &[0.1]);
        // b = 0.5·g + g: same direction, same step.
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(params.get("b").unwrap().data(), &[0.2]);
        assert_eq!(opt.state().tensors[0].slots, vec![vec![4.5, 0.0, 0.0, 6.0]]);
        assert_eq!(opt.steps(), 2);
        opt.reset();
        assert_eq!(opt.steps(), 0);
        assert!(opt.state().tensors.is_empty());
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
    fn the_update_buffer_is_allocated_only_by_rules_that_store_an_update() {
        use crate::optim::pytorch::Adafactor;
        use crate::{Optimizer, Params, Tensor};
        // Adafactor on a matrix computes its update where it applies it: no buffer as
        // long as the matrix (its memory is sublinear in the matrix's size); on a
        // vector it stores one.
        let mut opt = Tensorwise::<f64, Adafactor>::new(Default::default()).unwrap();
        let mut params: Params<f64> = [("w", Tensor::new([30, 20], vec![0.5; 600]).unwrap())]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("w", Tensor::new([30, 20], vec![0.1; 600]).unwrap())]
            .into_iter()
            .collect();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(opt.update.len(), 0);
        assert_ne!(params.get("w").unwrap().data()[0], 0.5);

        let mut params: Params<f64> = [("b", Tensor::new([7], vec![0.5; 7]).unwrap())]
            .into_iter()
            .collect();
        let grads: Params<f64> = [("b", Tensor::new([7], vec![0.1; 7]).unwrap())]
            .into_iter()
            .collect();
        let mut opt = Tensorwise::<f64, Adafactor>::new(Default::default()).unwrap();
        opt.update(&mut params, &grads).unwrap();
        assert_eq!(opt.update.len(), 7);
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

    #[test]
    fn learning_rate_can_be_set_to_zero_but_not_below() {
        let mut sgd = registry::parse::<f64>("sgd:lr=0.1", crate::Convention::Article).unwrap();
        assert_eq!(sgd.learning_rate(), Some(0.1));
        sgd.set_learning_rate(0.0).unwrap();
        assert_eq!(sgd.learning_rate(), Some(0.0));
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            let e = sgd.set_learning_rate(bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!("sgd: lr = {bad} is out of range; allowed: lr >= 0 and finite")
            );
        }
        let mut lamb =
            registry::build_in::<f32>(&"lamb".parse().unwrap(), Convention::Optax).unwrap();
        lamb.set_learning_rate(0.25).unwrap();
        assert_eq!(lamb.learning_rate(), Some(0.25));
        assert!(lamb.label().starts_with("lamb(learning_rate=0.25,"));
    }

    #[test]
    fn hyperparameters_are_checked_when_set() {
        let mut opt =
            registry::parse::<f64>("momentum:lr=0.1,momentum=0.9", crate::Convention::Article)
                .unwrap();
        let e = opt
            .set_hyperparameter("momentum", Value::Num(1.5))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "momentum: momentum = 1.5 is out of range; allowed: 0 <= momentum < 1"
        );
        assert!(opt
            .set_hyperparameter("beta", Value::Num(0.5))
            .unwrap_err()
            .to_string()
            .contains("momentum has no hyperparameter 'beta'"));
        assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.9)");
        opt.set_hyperparameter("momentum", Value::Num(0.5)).unwrap();
        assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.5)");
    }
}
