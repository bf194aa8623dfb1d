//! Matrix products: `matrixmultiply`'s blocked kernels, or a textbook triple loop.

use super::Real;

/// How matrix products are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernel {
    /// `matrixmultiply`'s cache-blocked, vectorized kernels.
    #[default]
    Blocked,
    /// The textbook triple loop: a reference for tests and the benchmark's baseline.
    Naive,
}

/// `C = op(A)·op(B) + beta·C` for row-major matrices, where `op(A)` is `m × k` and
/// `op(B)` is `k × n`. With `ta`, `a` holds Aᵀ (`k × m`); with `tb`, `b` holds Bᵀ
/// (`n × k`). With `beta` zero, `c`'s old values are ignored (NaN included).
///
/// Panics if a slice's length does not fit its dimensions: callers size them, so that
/// is a bug, never bad input.
#[allow(clippy::too_many_arguments)]
pub fn gemm<F: Real>(
    kernel: Kernel,
    m: usize,
    k: usize,
    n: usize,
    a: &[F],
    ta: bool,
    b: &[F],
    tb: bool,
    beta: F,
    c: &mut [F],
) {
    assert_eq!(a.len(), m * k, "gemm: A must be {m}×{k}");
    assert_eq!(b.len(), k * n, "gemm: B must be {k}×{n}");
    assert_eq!(c.len(), m * n, "gemm: C must be {m}×{n}");
    // Strides of op(A) and op(B) as stored.
    let (rsa, csa) = if ta { (1, m) } else { (k, 1) };
    let (rsb, csb) = if tb { (1, k) } else { (n, 1) };
    match kernel {
        Kernel::Blocked => blocked(m, k, n, a, (rsa, csa), b, (rsb, csb), beta, c),
        Kernel::Naive => {
            for i in 0..m {
                for j in 0..n {
                    let mut sum = F::ZERO;
                    for l in 0..k {
                        sum += a[i * rsa + l * csa] * b[l * rsb + j * csb];
                    }
                    let old = c[i * n + j];
                    c[i * n + j] = if beta == F::ZERO {
                        sum
                    } else {
                        sum + old * beta
                    };
                }
            }
        }
    }
}

/// Products of at least this many multiply-adds are split across two threads, when
/// rayon has two: below it, waking a thread costs more than it saves (measured with
/// the `mnist_iteration` benchmark, whose smallest products are 128×100×100).
pub const PARALLEL_MIN_WORK: usize = 1 << 20;

/// `matrixmultiply` on `A` (`m × k`, strides `sa`), `B` (`k × n`, strides `sb`) into
/// row-major `C`; large products in two halves of C's rows, on two threads.
///
/// Each element of C is the same dot product in the same order either way, so the
/// split does not change a single bit.
#[allow(clippy::too_many_arguments)]
fn blocked<F: Real>(
    m: usize,
    k: usize,
    n: usize,
    a: &[F],
    sa: (usize, usize),
    b: &[F],
    sb: (usize, usize),
    beta: F,
    c: &mut [F],
) {
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY (both calls): `gemm` checked the lengths against the dimensions; rows
    // `r0 .. r0 + rows` of op(A) start at element `r0 * sa.0` and stay inside `a`; `c`
    // is a unique borrow, so it overlaps neither `a` nor `b`.
    let part = |r0: usize, rows: usize, c: &mut [F]| unsafe {
        F::gemm_raw(
            rows,
            k,
            n,
            a.as_ptr().add(r0 * sa.0),
            sa.0 as isize,
            sa.1 as isize,
            b.as_ptr(),
            sb.0 as isize,
            sb.1 as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    };
    if m < 32 || m * k * n < PARALLEL_MIN_WORK || rayon::current_num_threads() < 2 {
        part(0, m, c);
        return;
    }
    // A multiple of 16 rows, the widest micro-kernel's height.
    let top = (m / 2).next_multiple_of(16).min(m);
    let (c_top, c_bottom) = c.split_at_mut(top * n);
    rayon::join(|| part(0, top, c_top), || part(top, m - top, c_bottom));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_and_naive_agree_with_a_hand_product() {
        // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]:
        // A·B = [[58, 64], [139, 154]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        let bt = [7.0, 9.0, 11.0, 8.0, 10.0, 12.0];
        for kernel in [Kernel::Blocked, Kernel::Naive] {
            for (aa, ta) in [(&a, false), (&at, true)] {
                for (bb, tb) in [(&b, false), (&bt, true)] {
                    let mut c = [1.0f64, 1.0, 1.0, 1.0];
                    gemm(kernel, 2, 3, 2, aa, ta, bb, tb, 2.0, &mut c);
                    assert_eq!(c, [60.0, 66.0, 141.0, 156.0], "{kernel:?} {ta} {tb}");
                    let mut c = [f64::NAN; 4];
                    gemm(kernel, 2, 3, 2, aa, ta, bb, tb, 0.0, &mut c);
                    assert_eq!(c, [58.0, 64.0, 139.0, 154.0], "{kernel:?} {ta} {tb}");
                }
            }
        }
    }
}
