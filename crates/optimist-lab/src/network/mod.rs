//! The book's multilayer network, written here: affine and ReLU layers with forward and
//! backward passes, softmax with cross-entropy, He initialization, and a gradient check.
//!
//! Everything is generic over the element type ([`Real`]: `f32` for training, `f64`
//! for the gradient check). Matrix products go through `matrixmultiply`
//! ([`Kernel::Blocked`]) or, as a reference and a baseline, a textbook triple loop
//! ([`Kernel::Naive`]).
//!
//! Files: `mlp.rs` the network and its parameters; `pass.rs` one forward and backward
//! pass in buffers of its own (a training batch is taken in two halves, one per
//! thread); `layers.rs`, `columns.rs` (the first layer on a batch's non-blank
//! columns) and `matmul.rs` what a pass is made of; `gradcheck.rs` the check against
//! central differences.

mod columns;
mod gradcheck;
mod layers;
mod matmul;
mod mlp;
mod pass;

pub use gradcheck::{gradient_check, TensorCheck};
pub use layers::{Affine, Relu, SoftmaxCrossEntropy, LOG_EPSILON};
pub use matmul::{gemm, Kernel};
pub use mlp::{Mlp, NetworkError, TensorInfo, HALVES_MIN};

/// An element type the network computes in: [`optimist::Float`] plus what layers need.
pub trait Real: optimist::Float + std::ops::AddAssign + std::ops::MulAssign {
    /// e^self.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// `C = A·B + beta·C` through `matrixmultiply`, strides in elements.
    ///
    /// # Safety
    /// The pointers and strides must describe valid `m × k`, `k × n` and `m × n`
    /// matrices, `c` not overlapping `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_real {
    ($t:ident, $gemm:ident) => {
        impl Real for $t {
            #[inline(always)]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $t::ln(self)
            }
            #[inline]
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    matrixmultiply::$gemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
                }
            }
        }
    };
}

impl_real!(f32, sgemm);
impl_real!(f64, dgemm);
