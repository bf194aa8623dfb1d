//! The loops of tensor-level rules: passes cut into pieces shared among the engine's
//! threads, and reductions (sums of squares, row and column means) whose partial sums
//! are added in a fixed order, so that a result is the same on any number of threads
//! and with any instruction set.

use super::super::kernel::{self, flush_subnormal};
use super::super::share::{self, Shared};
use crate::Float;

/// Elements in each piece of a pass. Reductions sum each piece in [`LANES`] partial
/// sums, then the pieces in order, so that a sum is the same on any number of threads
/// and with any instruction set.
pub(super) const PIECE: usize = 1 << 13;

/// Partial sums of a reduction: enough that the additions vectorize.
pub(super) const LANES: usize = 16;

/// The fewest bytes of an update that [`TensorStep::set_update`] streams to memory
/// ([`kernel::stream`]): a shorter one stays in the caches for the pass that reads it
/// (measured on LAMB: streaming is slower while the update fits in the caches, and
/// faster once it is several times larger than them).
pub(super) const STREAM_MIN: usize = 32 << 20;

/// Passes over fewer elements than this run on one thread.
pub(super) const PARALLEL_MIN: usize = 1 << 15;

/// `body(start, len)` for each [`PIECE`] of `0..n`; the results in order.
pub(super) fn pieces<T: Send>(n: usize, body: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
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
pub(super) fn for_row_blocks<T: Send>(
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
pub(super) const TOGETHER: usize = 4;

/// The most blocks of rows a matrix is cut into (see [`for_row_blocks`]).
pub(super) const BLOCKS: usize = 64;

/// `run(i)` for `i` in `0..count`, each compiled for the engine's instruction set
/// ([`kernel::vectorized`]), shared among the engine's threads if `parallel`; the
/// results in order.
#[inline(always)]
pub(super) fn run_pieces<T: Send>(
    count: usize,
    parallel: bool,
    run: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
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
pub(super) fn cols_of<F>(cols: &[F], row: usize, (_, nr, nc): (usize, usize, usize)) -> &[F] {
    let b = row / nr;
    &cols[b * nc..(b + 1) * nc]
}

/// Σu² of `u = f(g, r, c)` along one row, in [`LANES`] partial sums (a function of its
/// own so that its slices are known not to overlap, and the loop vectorizes).
#[inline(always)]
pub(super) fn factored_row_sum_sq<F: Float, const K: usize>(
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
pub(super) fn apply_row<F: Float, const K: usize>(
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
pub(super) fn add_rows<F: Float, const ROWS: usize>(
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
pub(super) fn add_group<F: Float, const ROWS: usize>(
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
pub(super) fn weights<F: Float, const ROWS: usize>(
    weight: impl Fn(usize, F) -> f64,
    first: usize,
    sums: [f64; ROWS],
    n: usize,
) -> [f64; ROWS] {
    std::array::from_fn(|k| weight(first + k, F::from_f64(sums[k] / n as f64)))
}

/// Each row's sum of `f(g)`, in [`LANES`] partial sums (the same as [`add_rows`]').
#[inline(always)]
pub(super) fn row_sums<F: Float, const ROWS: usize>(
    f: impl Fn(F) -> F,
    rows: [&[F]; ROWS],
) -> [f64; ROWS] {
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
pub(super) fn lanes<F, const ROWS: usize>(rows: [&[F]; ROWS], i: usize) -> [&[F]; ROWS] {
    rows.map(|g| &g[i..i + LANES])
}

/// Adds `f(g)` of up to [`LANES`] elements of each row to its partial sums.
#[inline(always)]
pub(super) fn sum_lanes<F: Float, const ROWS: usize>(
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
pub(super) fn add_rows_weighted<F: Float, const ROWS: usize>(
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
pub(super) fn update_lanes<F: Float, const N: usize>(
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
pub(super) fn lanes_of<F>(x: &[F]) -> &[F; LANES] {
    x[..LANES].try_into().expect("LANES elements")
}

/// [`lanes_of`], mutable.
#[inline(always)]
pub(super) fn lanes_mut<F>(x: &mut [F]) -> &mut [F; LANES] {
    (&mut x[..LANES]).try_into().expect("LANES elements")
}

/// The sum of squares of one piece, in [`LANES`] partial sums.
#[inline(always)]
pub(super) fn sum_sq<F: Float>(xs: &[F]) -> f64 {
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

/// Means of `f(g)` over each row and each column of the batch of matrices `g` of
/// `dims`, and with a `weight`, the weighted column sums
/// ([`TensorStep::grad_row_col_means_weighted`](super::TensorStep::grad_row_col_means_weighted)).
pub(super) fn row_col_stats<F: Float>(
    g: &[F],
    (batch, nr, nc): (usize, usize, usize),
    scratch: &mut Vec<f64>,
    f: impl Fn(F) -> F + Copy + Sync,
    weight: Option<impl Fn(usize, F) -> f64 + Copy + Sync>,
) -> (Vec<F>, Vec<F>, Vec<f64>) {
    let blocks = RowBlocks::new((batch, nr, nc));
    // Each block of rows writes its rows' sums, and its part of its matrix's column
    // sums (and weighted sums) in its own part of the engine's scratch space (kept
    // from step to step: allocating it for each step cost a page fault per page,
    // which slowed the pass noticeably).
    let parts = if weight.is_some() { 2 } else { 1 };
    let mut rows = vec![0.0f64; batch * nr];
    scratch.resize(blocks.len() * parts * nc, 0.0);
    let (all_sums, all_parts) = (Shared(rows.as_mut_ptr()), Shared(scratch.as_mut_ptr()));
    blocks.run(
        #[inline(always)]
        |block, first, count| {
            #[allow(clippy::redundant_locals)]
            let (f, weight) = (f, weight); // as in set_update
                                           // SAFETY: each block writes its own rows and its own part of the scratch.
            let (sums, part) = unsafe {
                (
                    all_sums.slice(first, count),
                    all_parts.slice(block * parts * nc, parts * nc),
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
    let used = &scratch[..blocks.len() * parts * nc];
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
