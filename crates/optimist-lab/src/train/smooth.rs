//! Smoothing a loss curve as the book does: a Kaiser window, by convolution.

/// The Kaiser window of `len` points: I₀(β·√(1 − (2n/(len−1) − 1)²)) / I₀(β), as
/// `numpy.kaiser`.
pub fn kaiser(len: usize, beta: f64) -> Vec<f64> {
    if len == 1 {
        return vec![1.0];
    }
    let m = (len - 1) as f64;
    (0..len)
        .map(|n| {
            let r = 2.0 * n as f64 / m - 1.0;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

/// The modified Bessel function of the first kind, order 0: Σ ((x/2)^k / k!)².
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut sum, mut term, mut k) = (1.0f64, 1.0f64, 1.0f64);
    // Terms shrink once k² > q; stop when they no longer change the sum.
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The book's `smooth_curve`: a moving average weighted by a Kaiser window of 11
/// points (β = 2), the series reflected at both ends so the result is as long as the
/// input.
///
/// At the start the reflection excludes the first value (`x[1], x[2], ...`), at the
/// end it includes the last (`x[n−1], x[n−2], ...`), exactly as the book's
/// `np.r_[x[window_len-1:0:-1], x, x[-1:-window_len:-1]]`. For fewer than 11 values
/// the reflected indices are clamped to the series.
pub fn smooth_curve(x: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 11;
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let w = kaiser(WINDOW, 2.0);
    let total: f64 = w.iter().sum();
    let half = (WINDOW / 2) as isize;
    let at = |k: isize| -> f64 {
        let n = n as isize;
        let j = if k < 0 {
            -k
        } else if k >= n {
            2 * n - 1 - k
        } else {
            k
        };
        x[j.clamp(0, n - 1) as usize]
    };
    (0..n as isize)
        .map(|i| {
            w.iter()
                .enumerate()
                .map(|(m, &wm)| wm * at(i + m as isize - half))
                .sum::<f64>()
                / total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_matches_reference_values() {
        // I₀(1) and I₀(2) (Abramowitz & Stegun, table 9.8).
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-15);
        assert!((bessel_i0(2.0) - 2.279_585_302_336_067).abs() < 1e-14);
        assert_eq!(bessel_i0(0.0), 1.0);
    }
}
