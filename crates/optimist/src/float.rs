//! The numbers optimizers compute with.
//!
//! [`Float`] is the element type of a tensor (`f32` or `f64`). [`Lane`] is what an
//! optimizer's per-element rule is written against: a single `Float` today, and a
//! SIMD vector of them when the engine vectorizes. A rule written once against `Lane`
//! therefore runs unchanged in every form the engine picks.

use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// What only the engine sees of a [`Float`]: a public trait in a private module, so
/// that no other crate can implement `Float` or name (and call) these methods.
pub(crate) mod sealed {
    /// The engine's matrix products.
    pub trait Sealed: Sized {
        /// `c ← a·b` for an `m × k` matrix `a` and a `k × n` matrix `b`, each element
        /// at `row·rs + col·cs` (strides in elements), through `matrixmultiply`'s
        /// blocked and vectorized kernels ([`crate::engine::linalg`]).
        ///
        /// # Safety
        /// The pointers must be valid for every element the strides reach, and `c`
        /// must not overlap `a` or `b`.
        #[allow(clippy::too_many_arguments)]
        unsafe fn gemm(
            m: usize,
            k: usize,
            n: usize,
            a: (*const Self, isize, isize),
            b: (*const Self, isize, isize),
            c: (*mut Self, isize, isize),
        );
    }
}

/// One value or a vector of values on which an optimizer's update rule is computed.
///
/// Arithmetic with `Self` is elementwise; arithmetic with a scalar `F` (on the right)
/// applies the scalar to every element, so a rule reads like its formula:
/// `*p = *p - g * lr`.
pub trait Lane<F>:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<F, Output = Self>
    + Sub<F, Output = Self>
    + Mul<F, Output = Self>
    + Div<F, Output = Self>
{
    /// Every element equal to `x`.
    fn splat(x: F) -> Self;
    /// Elementwise square root.
    fn sqrt(self) -> Self;
    /// Elementwise absolute value.
    fn abs(self) -> Self;
    /// Elementwise maximum (the other operand where one is NaN).
    fn max(self, other: Self) -> Self;
    /// Elementwise minimum (the other operand where one is NaN).
    fn min(self, other: Self) -> Self;
    /// Elementwise sign: −1, 0 or +1 (0 for ±0, like `torch.sign`; NaN stays NaN).
    fn sign(self) -> Self;
    /// Elementwise choice: `then` where `self > 0`, else `otherwise` (also where
    /// `self` is NaN); a compare and a blend for a SIMD vector.
    fn if_positive(self, then: Self, otherwise: Self) -> Self;
    /// Elementwise choice: `then` where `self < 0`, else `otherwise` (also where
    /// `self` is NaN).
    fn if_negative(self, then: Self, otherwise: Self) -> Self;
}

/// A floating-point element type: `f32` or `f64`.
pub trait Float:
    Lane<Self> + Debug + Display + PartialOrd + Default + Send + Sync + 'static + sealed::Sealed
{
    /// The type's name, `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// The machine epsilon: the gap between 1 and the next larger value.
    const EPSILON: Self;
    /// The smallest positive normal value; smaller magnitudes are subnormal.
    const MIN_POSITIVE: Self;
    /// The nearest value of this type to `x`.
    fn from_f64(x: f64) -> Self;
    /// This value as an `f64` (exact).
    fn to_f64(self) -> f64;
    /// Neither NaN nor infinite.
    fn is_finite(self) -> bool;
}

macro_rules! impl_float {
    ($t:ident, $gemm:path) => {
        impl Lane<$t> for $t {
            #[inline(always)]
            fn splat(x: $t) -> Self {
                x
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                $t::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                $t::min(self, other)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    // ±0 → 0, NaN → NaN
                    self * 0.0
                }
            }
            #[inline(always)]
            fn if_positive(self, then: Self, otherwise: Self) -> Self {
                if self > 0.0 {
                    then
                } else {
                    otherwise
                }
            }
            #[inline(always)]
            fn if_negative(self, then: Self, otherwise: Self) -> Self {
                if self < 0.0 {
                    then
                } else {
                    otherwise
                }
            }
        }

        impl Float for $t {
            const NAME: &'static str = stringify!($t);
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = $t::EPSILON;
            const MIN_POSITIVE: Self = $t::MIN_POSITIVE;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
        }

        impl sealed::Sealed for $t {
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: (*const Self, isize, isize),
                b: (*const Self, isize, isize),
                c: (*mut Self, isize, isize),
            ) {
                $gemm(
                    m, k, n, 1.0, a.0, a.1, a.2, b.0, b.1, b.2, 0.0, c.0, c.1, c.2,
                )
            }
        }
    };
}

impl_float!(f32, matrixmultiply::sgemm);
impl_float!(f64, matrixmultiply::dgemm);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_is_zero_at_zero_and_keeps_nan() {
        assert_eq!(Lane::sign(0.0f64), 0.0);
        assert_eq!(Lane::sign(-0.0f32), 0.0);
        assert_eq!(Lane::sign(-3.0f64), -1.0);
        assert_eq!(Lane::sign(2.5f32), 1.0);
        assert!(Lane::sign(f64::NAN).is_nan());
    }

    #[test]
    fn selects_by_sign_of_self() {
        assert_eq!(Lane::if_positive(2.0f64, 1.0, 5.0), 1.0);
        assert_eq!(Lane::if_positive(0.0f32, 1.0, 5.0), 5.0);
        assert_eq!(Lane::if_positive(f64::NAN, 1.0, 5.0), 5.0);
        assert_eq!(Lane::if_negative(-1e-300f64, 1.0, 5.0), 1.0);
        assert_eq!(Lane::if_negative(-0.0f32, 1.0, 5.0), 5.0);
        assert_eq!(Lane::if_negative(f32::NAN, 1.0, 5.0), 5.0);
    }
}
