//! Memory a run may take, estimated before it starts: a run that would need more than
//! the budget (half this machine's memory, or `--memory-limit`) is refused, saying which
//! product of the settings is too large.

use crate::Failure;

/// The share of the machine's memory a run may take by default.
const DEFAULT_SHARE: f64 = 0.5;
/// The budget where the machine's memory is unknown.
const FALLBACK: u64 = 4 << 30;

/// `--memory-limit`.
#[derive(Debug, Clone, clap::Args)]
pub struct BudgetArgs {
    /// The most memory the run may take, e.g. 8G, 512M (K, M, G, T in powers of 1024)
    /// [default: half this machine's memory]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<u64>,
}

/// A run's memory, estimated: bytes, and the product they come from, in words.
pub struct Estimate {
    /// Bytes the run is expected to hold at its peak.
    pub bytes: f64,
    /// How they were counted, e.g. "8 optimizers × 10000001 points × 160 bytes".
    pub product: String,
    /// Which options lower it.
    pub lower: &'static str,
}

/// A size such as `8G`, `512M`, `1.5GiB` or `1000000` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix(['B', 'b']))
        .unwrap_or(t);
    let (number, scale) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let power = match c.to_ascii_uppercase() {
                'K' => 1,
                'M' => 2,
                'G' => 3,
                'T' => 4,
                _ => 99,
            };
            (&t[..i], 1024f64.powi(power))
        }
        _ => (t, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && scale < 1e20 && v * scale < 1.8e19 => {
            Ok((v * scale) as u64)
        }
        _ => Err(format!(
            "{} is not a size such as 8G, 512M or 1000000 (bytes)",
            optimist_lab::text::quoted(text)
        )),
    }
}

/// The machine's memory in bytes, where the system tells (Linux).
fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Bytes in words: `6.4 GB`.
pub fn human(bytes: f64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

impl BudgetArgs {
    /// The budget and where it comes from.
    fn limit(&self) -> (f64, String) {
        match self.memory_limit {
            Some(b) => (b as f64, "--memory-limit".into()),
            None => match machine_memory() {
                Some(m) => (
                    m as f64 * DEFAULT_SHARE,
                    format!("half this machine's {}", human(m as f64)),
                ),
                None => (
                    FALLBACK as f64,
                    "the default where the machine's memory is unknown".into(),
                ),
            },
        }
    }

    /// Refuses a run whose estimate exceeds the budget.
    pub fn check(&self, estimate: &Estimate) -> Result<(), Failure> {
        let (limit, source) = self.limit();
        if estimate.bytes <= limit {
            return Ok(());
        }
        Err(Failure::usage(format!(
            "this run would take about {} ({}), more than the limit of {} ({source}); lower {}, or raise the limit with --memory-limit SIZE",
            human(estimate.bytes),
            estimate.product,
            human(limit),
            estimate.lower
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2kb"), Ok(2048));
        for bad in ["", "G", "-1G", "1X", "1e30", "nan"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human(6.4e9), "6.4 GB");
        assert_eq!(human(12.0), "12 bytes");
    }

    #[test]
    fn a_run_over_the_limit_names_its_product_and_the_limit() {
        let args = BudgetArgs {
            memory_limit: Some(1 << 30),
        };
        let e = args
            .check(&Estimate {
                bytes: 6.4e9,
                product: "8 optimizers × 10000001 points × 80 bytes".into(),
                lower: "--steps",
            })
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "this run would take about 6.4 GB (8 optimizers × 10000001 points × 80 bytes), more than the limit of 1.1 GB (--memory-limit); lower --steps, or raise the limit with --memory-limit SIZE"
        );
        assert!(args
            .check(&Estimate {
                bytes: 1e9,
                product: String::new(),
                lower: ""
            })
            .is_ok());
    }
}
