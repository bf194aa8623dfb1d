//! Axes on linear or log scales: the range they show and their ticks.

use super::layout::{nice_ticks, short_number, tick_label};

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Evenly.
    Linear,
    /// By their logarithm: each power of ten the same length.
    Log,
    /// Symmetric log (matplotlib's symlog) with linear threshold 10ᵏ: sign(v)·log₁₀(1 +
    /// |v|/10ᵏ), so 0 and negative values have a place, values well past ±10ᵏ are
    /// spread by their logarithm, and those well inside it linearly around 0.
    SymLog(i32),
}

impl Scale {
    /// `value` in this scale's units, NaN where it has none (not positive on a log scale).
    pub fn unit(self, value: f64) -> f64 {
        match self {
            Scale::Linear => value,
            Scale::Log if value > 0.0 => value.log10(),
            Scale::Log => f64::NAN,
            Scale::SymLog(k) => value.signum() * (value.abs() / 10f64.powi(k)).ln_1p() / LN_10,
        }
    }

    /// A symmetric-log scale for `values`: its threshold a decade below their smallest
    /// magnitude other than 0, so that every value is spread by its logarithm and 0
    /// sits a decade below the smallest.
    pub fn symlog_for(values: impl Iterator<Item = f64>) -> Scale {
        let smallest = values
            .filter(|v| v.is_finite() && *v != 0.0)
            .map(f64::abs)
            .fold(f64::INFINITY, f64::min);
        if smallest.is_infinite() {
            return Scale::SymLog(0);
        }
        Scale::SymLog(smallest.log10().floor() as i32 - 1)
    }
}

const LN_10: f64 = std::f64::consts::LN_10;

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
            Scale::Log if value <= 0.0 => self.lo,
            scale => scale.unit(value),
        }
    }

    /// `value` moved onto the axis's range if it lies beyond it (on a log scale, a value
    /// that is not positive goes to the bottom), in data units.
    pub fn clamp(&self, value: f64) -> f64 {
        let u = self.unit(value);
        if u >= self.lo && u <= self.hi {
            return value;
        }
        let edge = if u > self.hi { self.hi } else { self.lo };
        match self.scale {
            Scale::Linear => edge,
            Scale::Log => 10f64.powf(edge),
            Scale::SymLog(k) => edge.signum() * (edge.abs() * LN_10).exp_m1() * 10f64.powi(k),
        }
    }

    /// The axis that shows every finite value of `values` (positive ones on a log
    /// scale), with a margin of 4% each side; ±1 around a single value.
    pub fn fit(scale: Scale, values: impl Iterator<Item = f64>) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let u = scale.unit(v);
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
                Scale::Log | Scale::SymLog(_) => 0.5,
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
            Scale::SymLog(k) => {
                // 0 and ±10ʲ from the threshold out, every second or third when many.
                let top = (self.hi.max(-self.lo).max(0.0) * LN_10).exp_m1().log10() + k as f64;
                let powers: Vec<i64> = (k as i64..=top.floor().max(k as f64) as i64).collect();
                let per_side = powers.len().max(1);
                let sides = usize::from(self.lo < 0.0) + usize::from(self.hi > 0.0);
                let every = (per_side * sides.max(1) + 1)
                    .div_ceil(max_count.max(3))
                    .max(1);
                let mut ticks = Vec::new();
                for (n, &j) in powers.iter().rev().enumerate() {
                    if n % every != 0 {
                        continue;
                    }
                    let v = 10f64.powi(j as i32);
                    ticks.push((self.scale.unit(v), power_of_ten(j)));
                    ticks.push((self.scale.unit(-v), format!("−{}", power_of_ten(j))));
                }
                ticks.push((0.0, "0".into()));
                ticks.retain(|(u, _)| (self.lo..=self.hi).contains(u));
                ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
                ticks
            }
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

    #[test]
    fn a_symmetric_log_axis_shows_zero_and_both_signs() {
        let scale = Scale::symlog_for([1e-3, 0.0, -3e5, 40.0].into_iter());
        // A decade below the smallest magnitude, 10⁻³.
        assert_eq!(scale, Scale::SymLog(-4));
        assert_eq!(scale.unit(0.0), 0.0);
        assert!((scale.unit(-3e5) + (3e9f64).ln_1p() / LN_10).abs() < 1e-12);
        assert_eq!(scale.unit(5.0), -scale.unit(-5.0));
        let axis = Axis::fit(scale, [1e-3, 0.0, -3e5, 40.0].into_iter());
        assert!(axis.lo < scale.unit(-3e5) && axis.hi > scale.unit(40.0));
        let ticks = axis.ticks(12);
        let labels: Vec<&str> = ticks.iter().map(|(_, s)| s.as_str()).collect();
        assert!(labels.contains(&"0"), "{labels:?}");
        let negative = labels.iter().filter(|l| l.starts_with('−')).count();
        assert!(negative >= 3 && labels.len() - negative > 2, "{labels:?}");
        // The lowest tick is within a decade and a half of −3e5, the highest of 40.
        let (low, high) = (ticks[0].0, ticks[ticks.len() - 1].0);
        assert!(
            low <= scale.unit(-3e4) && high >= scale.unit(4.0),
            "{labels:?}"
        );
        assert!(ticks.windows(2).all(|t| t[0].0 < t[1].0), "{labels:?}");
        assert!(ticks.len() <= 13, "{labels:?}");
        // Values that are all zero still get a scale.
        assert_eq!(Scale::symlog_for([0.0, 0.0].into_iter()), Scale::SymLog(0));
    }
}
