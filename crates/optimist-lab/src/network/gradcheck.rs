//! Backpropagation checked against central finite differences.

use super::{Mlp, NetworkError};

/// How far one parameter tensor's backpropagated gradient is from finite differences.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorCheck {
    /// The tensor, e.g. `W2`.
    pub name: String,
    /// ‖backprop − numerical‖₂ / max(‖backprop‖₂, ‖numerical‖₂); 0 when both are 0.
    pub relative_error: f64,
    /// The largest absolute difference of one element.
    pub max_abs_difference: f64,
}

/// Compares the gradient from [`Mlp::loss_and_gradient`] on a batch with central
/// differences (L(θ + h) − L(θ − h)) / 2h, element by element, and reports each tensor.
///
/// Runs in `f64`, where a step `h` near 1e-5 balances truncation (∝ h²) against
/// rounding (∝ 1/h). The network's parameters are restored exactly.
pub fn gradient_check(
    net: &mut Mlp<f64>,
    x: &[f64],
    labels: &[u8],
    h: f64,
) -> Result<Vec<TensorCheck>, NetworkError> {
    net.loss_and_gradient(x, labels)?;
    let backprop = net.grads().to_vec();
    let tensors = net.tensors().to_vec();
    let mut checks = Vec::with_capacity(tensors.len());
    for t in &tensors {
        let (mut diff2, mut bp2, mut num2, mut max_abs) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let range = t.offset..t.offset + t.len;
        for (i, &bp) in range.clone().zip(&backprop[range]) {
            let saved = net.params()[i];
            net.params_mut()[i] = saved + h;
            let plus = net.loss(x, labels)?;
            net.params_mut()[i] = saved - h;
            let minus = net.loss(x, labels)?;
            net.params_mut()[i] = saved;
            let numerical = (plus - minus) / (2.0 * h);
            let d = bp - numerical;
            diff2 += d * d;
            bp2 += bp * bp;
            num2 += numerical * numerical;
            max_abs = max_abs.max(d.abs());
        }
        let scale = bp2.sqrt().max(num2.sqrt());
        checks.push(TensorCheck {
            name: t.name.clone(),
            relative_error: if scale == 0.0 {
                0.0
            } else {
                diff2.sqrt() / scale
            },
            max_abs_difference: max_abs,
        });
    }
    Ok(checks)
}
