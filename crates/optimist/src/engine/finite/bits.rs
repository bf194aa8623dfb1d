//! The gradient check as integer operations on the elements' bits, compiled for each
//! of the engine's instruction sets.
//!
//! An element is NaN or infinite exactly when its bits without the sign, read as an
//! unsigned integer, are at least those of infinity. The loop keeps the largest such
//! integer per lane: an AND and an unsigned maximum per vector (`vpandd`, `vpmaxud`
//! on AVX-512), no floating-point arithmetic, so that the check keeps up with memory.
//! Written as plain lanes that the compiler vectorizes inside `#[target_feature]`
//! functions, as the update loop is ([`kernel`]), since the AVX-512 intrinsics need a
//! newer Rust than the crate's minimum. Each cache line read asks for the one
//! [`kernel::prefetch_ahead`] bytes further on, as the update loop does.

use super::kernel::{self, Isa};
use crate::Float;

/// Lanes of the maxima: four AVX-512 vectors of f32, so that four maxima overlap.
const LANES: usize = 64;

/// The elements' bits, as the loop reads them.
trait Bits: Copy + Ord + std::ops::BitAnd<Output = Self> {
    const ZERO: Self;
    /// Every bit but the sign.
    const ABS: Self;
    /// The bits of infinity: the least of the non-finite values without sign.
    const INF: Self;
}

impl Bits for u32 {
    const ZERO: Self = 0;
    const ABS: Self = 0x7fff_ffff;
    const INF: Self = 0x7f80_0000;
}

impl Bits for u64 {
    const ZERO: Self = 0;
    const ABS: Self = 0x7fff_ffff_ffff_ffff;
    const INF: Self = 0x7ff0_0000_0000_0000;
}

/// Whether no element of `xs` has bits without sign of at least infinity's.
#[inline(always)]
fn below_inf<B: Bits>(xs: &[B]) -> bool {
    let mut acc = [B::ZERO; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    let line = 64 / std::mem::size_of::<B>();
    for c in &mut chunks {
        for l in (0..LANES).step_by(line) {
            kernel::prefetch_ahead(c[l..].as_ptr());
        }
        for j in 0..LANES {
            acc[j] = acc[j].max(c[j] & B::ABS);
        }
    }
    for (j, &x) in chunks.remainder().iter().enumerate() {
        acc[j] = acc[j].max(x & B::ABS);
    }
    acc.iter().fold(B::ZERO, |m, &a| m.max(a)) < B::INF
}

/// Whether every element of `xs` is finite, through its bits.
#[inline(always)]
fn finite_bits<F: Float>(xs: &[F]) -> bool {
    // SAFETY: a Float is f32 or f64, whose bits are a u32 or a u64 of the same size
    // and alignment.
    unsafe {
        match std::mem::size_of::<F>() {
            4 => below_inf(std::slice::from_raw_parts(
                xs.as_ptr().cast::<u32>(),
                xs.len(),
            )),
            8 => below_inf(std::slice::from_raw_parts(
                xs.as_ptr().cast::<u64>(),
                xs.len(),
            )),
            _ => unreachable!("Float is f32 or f64"),
        }
    }
}

/// Whether every element of `xs` is finite, compiled for `isa` (the caller's choice,
/// which this CPU must run).
#[inline(always)]
pub(super) fn all_finite<F: Float>(isa: Isa, xs: &[F]) -> bool {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller picks an instruction set this CPU has.
        Isa::Avx512 => unsafe { avx512(xs) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => unsafe { avx2(xs) },
        _ => finite_bits(xs),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<F: Float>(xs: &[F]) -> bool {
    finite_bits(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<F: Float>(xs: &[F]) -> bool {
    finite_bits(xs)
}
