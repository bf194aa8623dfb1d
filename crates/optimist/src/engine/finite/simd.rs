//! The gradient check in AVX-512 and AVX2 intrinsics.
//!
//! An element is NaN or infinite exactly when its exponent bits are all ones, that is
//! when its bits without the sign, read as an unsigned integer, are at least those of
//! infinity. The loops keep the largest such integer per lane (AVX-512) or OR together
//! the lanes whose exponent is all ones (AVX2, which has no unsigned 64-bit maximum):
//! two or three integer operations per vector, no floating-point arithmetic, so that
//! the check keeps up with memory. Each cache line read asks for the one
//! [`kernel::prefetch_ahead`] bytes further on, as the update loop does.

use super::kernel;
use crate::Float;
use std::arch::x86_64::*;

/// The bits of an element type as the loops see them.
#[derive(Clone, Copy)]
enum Width {
    /// f32: 16 lanes per AVX-512 vector.
    W32,
    /// f64: 8 lanes.
    W64,
}

fn width<F: Float>() -> Width {
    match std::mem::size_of::<F>() {
        4 => Width::W32,
        8 => Width::W64,
        _ => unreachable!("Float is f32 or f64"),
    }
}

const ABS32: i32 = 0x7fff_ffff;
const INF32: u32 = 0x7f80_0000;
const ABS64: i64 = 0x7fff_ffff_ffff_ffff;
const INF64: u64 = 0x7ff0_0000_0000_0000;

/// Vectors read per turn of the loops: four cache lines, so that four independent
/// maxima overlap.
const UNROLL: usize = 4;

/// Whether every element of `xs` is finite, with AVX-512F.
///
/// # Safety
/// The CPU supports AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn all_finite_avx512<F: Float>(xs: &[F]) -> bool {
    let bytes = std::mem::size_of_val(xs);
    let p = xs.as_ptr().cast::<u8>();
    let vectors = bytes / 64;
    let mut acc = [_mm512_setzero_si512(); UNROLL];
    let (abs, w) = match width::<F>() {
        Width::W32 => (_mm512_set1_epi32(ABS32), Width::W32),
        Width::W64 => (_mm512_set1_epi64(ABS64), Width::W64),
    };
    let max = |a: __m512i, x: __m512i| match w {
        Width::W32 => _mm512_max_epu32(a, _mm512_and_si512(x, abs)),
        Width::W64 => _mm512_max_epu64(a, _mm512_and_si512(x, abs)),
    };
    let whole = vectors - vectors % UNROLL;
    let mut v = 0;
    while v < whole {
        for (k, a) in acc.iter_mut().enumerate() {
            let at = p.add(64 * (v + k));
            kernel::prefetch_ahead(at);
            *a = max(*a, _mm512_loadu_si512(at.cast()));
        }
        v += UNROLL;
    }
    while v < vectors {
        acc[0] = max(acc[0], _mm512_loadu_si512(p.add(64 * v).cast()));
        v += 1;
    }
    // The last elements, fewer than a vector, through a masked load.
    let rest = (bytes - 64 * vectors) / std::mem::size_of::<F>();
    let tail = p.add(64 * vectors);
    acc[1] = match w {
        Width::W32 => max(
            acc[1],
            _mm512_maskz_loadu_epi32((1 << rest) - 1, tail.cast()),
        ),
        Width::W64 => max(
            acc[1],
            _mm512_maskz_loadu_epi64((1 << rest) - 1, tail.cast()),
        ),
    };
    let m = match w {
        Width::W32 => _mm512_max_epu32(
            _mm512_max_epu32(acc[0], acc[1]),
            _mm512_max_epu32(acc[2], acc[3]),
        ),
        Width::W64 => _mm512_max_epu64(
            _mm512_max_epu64(acc[0], acc[1]),
            _mm512_max_epu64(acc[2], acc[3]),
        ),
    };
    match w {
        Width::W32 => _mm512_reduce_max_epu32(m) < INF32,
        Width::W64 => _mm512_reduce_max_epu64(m) < INF64,
    }
}

/// Whether every element of `xs` is finite, with AVX2.
///
/// # Safety
/// The CPU supports AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn all_finite_avx2<F: Float>(xs: &[F]) -> bool {
    let bytes = std::mem::size_of_val(xs);
    let p = xs.as_ptr().cast::<u8>();
    let vectors = bytes / 32;
    let w = width::<F>();
    let inf = match w {
        Width::W32 => _mm256_set1_epi32(INF32 as i32),
        Width::W64 => _mm256_set1_epi64x(INF64 as i64),
    };
    // All ones in the lanes whose exponent bits are all ones.
    let bad = |x: __m256i| match w {
        Width::W32 => _mm256_cmpeq_epi32(_mm256_and_si256(x, inf), inf),
        Width::W64 => _mm256_cmpeq_epi64(_mm256_and_si256(x, inf), inf),
    };
    let mut acc = [_mm256_setzero_si256(); UNROLL];
    let whole = vectors - vectors % (2 * UNROLL);
    let mut v = 0;
    while v < whole {
        for (k, a) in acc.iter_mut().enumerate() {
            let at = p.add(32 * (v + 2 * k));
            kernel::prefetch_ahead(at);
            let two = _mm256_or_si256(
                bad(_mm256_loadu_si256(at.cast())),
                bad(_mm256_loadu_si256(at.add(32).cast())),
            );
            *a = _mm256_or_si256(*a, two);
        }
        v += 2 * UNROLL;
    }
    while v < vectors {
        acc[0] = _mm256_or_si256(acc[0], bad(_mm256_loadu_si256(p.add(32 * v).cast())));
        v += 1;
    }
    let all = _mm256_or_si256(
        _mm256_or_si256(acc[0], acc[1]),
        _mm256_or_si256(acc[2], acc[3]),
    );
    let rest = std::slice::from_raw_parts(
        p.add(32 * vectors).cast::<F>(),
        (bytes - 32 * vectors) / std::mem::size_of::<F>(),
    );
    _mm256_testz_si256(all, all) == 1 && rest.iter().all(|x| x.is_finite())
}
