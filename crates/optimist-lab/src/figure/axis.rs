//! Axes on linear or log scales: the range they show and their ticks.

use super::layout::{nice_ticks, short_number, tick_label};

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Evenly.
    Linear,
    /// By their logarithm: each power of ten the same length.
    Log,
}

/// An axis: its scale and the range it shows, in scale units (log₁₀ of the value on a
/// log scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Axis {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
}

impl Axis {
    /// `value` in scale units; on a log scale, values that are not positive sit at the
    /// axis's low end.
    pub fn unit(&self, value: f64) -> f64 {
        match self.scale {
            Scale::Linear => value,
            Scale::Log if value > 0.0 => value.log10(),
            Scale::Log if value.is_nan() => f64::NAN,
            Scale::Log => self.lo,
        }
    }

    /// The axis that shows every finite value of `values` (positive ones on a log
    /// scale), with a margin of 4% each side; ±1 around a single value.
    pub fn fit(scale: Scale, values: impl Iterator<Item = f64>) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let u = match scale {
                Scale::Linear => v,
                Scale::Log if v > 0.0 => v.log10(),
                Scale::Log => f64::NAN,
            };
            if u.is_finite() {
                lo = lo.min(u);
                hi = hi.max(u);
            }
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        // Not much spread: a range around the value, so the line is not flat on an edge.
        let spread = hi - lo;
        if spread <= 1e-9 * lo.abs().max(hi.abs()).max(1e-300) {
            let half = match scale {
                Scale::Log => 0.5,
                Scale::Linear => lo.abs().max(1.0) * 0.5,
            };
            return Axis {
                scale,
                lo: lo - half,
                hi: hi + half,
            };
        }
        let pad = 0.04 * spread;
        Axis {
            scale,
            lo: lo - pad,
            hi: hi + pad,
        }
    }

    /// Tick positions (in scale units) with their labels, about `max_count` of them: on a
    /// log scale, powers of ten (every second or third when there are many), or 1, 2, 5
    /// times them over a narrow range.
    pub fn ticks(&self, max_count: usize) -> Vec<(f64, String)> {
        match self.scale {
            Scale::Linear => {
                let (ticks, step) = nice_ticks(self.lo, self.hi, max_count);
                ticks.iter().map(|&t| (t, tick_label(t, step))).collect()
            }
            Scale::Log => {
                let (first, last) = (self.lo.ceil() as i64, self.hi.floor() as i64);
                let decades = last - first + 1;
                if decades >= 2 {
                    let every = (decades as usize).div_ceil(max_count.max(2)).max(1) as i64;
                    // Multiples of `every`, so that 10⁰ is a tick whenever it is in range.
                    let start = first + (every - first.rem_euclid(every)) % every;
                    (start..=last)
                        .step_by(every as usize)
                        .map(|k| (k as f64, power_of_ten(k)))
                        .collect()
                } else {
                    let values: Vec<f64> = (first - 1..=last + 1)
                        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k as i32)))
                        .filter(|v| (self.lo..=self.hi).contains(&v.log10()))
                        .collect();
                    if values.len() >= 2 {
                        values
                            .iter()
                            .map(|&v| (v.log10(), short_number(v)))
                            .collect()
                    } else {
                        let (lo, hi) = (10f64.powf(self.lo), 10f64.powf(self.hi));
                        let (ticks, step) = nice_ticks(lo, hi, max_count);
                        ticks
                            .iter()
                            .filter(|&&t| t > 0.0)
                            .map(|&t| (t.log10(), tick_label(t, step)))
                            .collect()
                    }
                }
            }
        }
    }
}

/// 10ᵏ as a label: `1`, `10`, `10²`, `10⁻³`.
pub(crate) fn power_of_ten(k: i64) -> String {
    match k {
        0 => "1".into(),
        1 => "10".into(),
        _ => {
            const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
            let sign = if k < 0 { "⁻" } else { "" };
            let digits: String = k
                .unsigned_abs()
                .to_string()
                .chars()
                .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
                .collect();
            format!("10{sign}{digits}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_fit_and_tick_at_powers_of_ten() {
        let a = Axis::fit(Scale::Log, [1e-6, 0.0, 3.0, f64::NAN, 100.0].into_iter());
        assert!((a.lo - (-6.0 - 0.32)).abs() < 1e-12 && (a.hi - (2.0 + 0.32)).abs() < 1e-12);
        assert_eq!(a.unit(0.0), a.lo, "0 sits at the bottom of a log axis");
        assert_eq!(a.unit(1000.0), 3.0);
        let ticks = a.ticks(10);
        let labels: Vec<&str> = ticks.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            labels,
            [
                "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "1", "10", "10²"
            ]
        );
        assert_eq!(ticks[0].0, -6.0);
        // 17 decades for at most 8 ticks: every third power, keeping 1.
        let wide = Axis {
            scale: Scale::Log,
            lo: -12.3,
            hi: 4.1,
        };
        let labels: Vec<String> = wide.ticks(8).into_iter().map(|(_, s)| s).collect();
        assert_eq!(labels, ["10⁻¹²", "10⁻⁹", "10⁻⁶", "10⁻³", "1", "10³"]);
        // Less than a decade: 1, 2, 5 times powers of ten.
        let narrow = Axis {
            scale: Scale::Log,
            lo: 0.1,
            hi: 0.9,
        };
        let labels: Vec<String> = narrow.ticks(8).into_iter().map(|(_, s)| s).collect();
        assert_eq!(labels, ["2", "5"]);
        let linear = Axis::fit(Scale::Linear, [0.0, 30.0].into_iter());
        assert_eq!(linear.ticks(7).first().unwrap().1, "0");
        // A single value gets a range around it.
        let flat = Axis::fit(Scale::Log, [5.0, 5.0].into_iter());
        assert!(flat.lo < 5f64.log10() && flat.hi > 5f64.log10());
        assert_eq!(power_of_ten(-10), "10⁻¹⁰");
    }
}
