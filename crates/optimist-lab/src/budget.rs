//! Memory a run may take, estimated before it starts, for every front (the command
//! line's `--memory-limit`, Python's `memory_limit=`): the estimate of a race and of
//! the network experiment, the default limit (half this machine's memory), sizes such
//! as `8G`, and the refusal that names the product of settings that is too large.

/// The share of the machine's memory a run may take by default.
const DEFAULT_SHARE: f64 = 0.5;
/// The budget where the machine's memory is unknown.
const FALLBACK: u64 = 4 << 30;

/// Memory per recorded point of a race: the point itself, with the vector's slack and
/// what the figures take (the CSV is streamed).
pub const POINT_BYTES: usize = 96;
/// Memory per parameter of each network: the weights, their gradients and up to two
/// slots of optimizer state, in f32.
pub const PARAMETER_BYTES: usize = 16;
/// Memory per unit of a layer per image of a batch: activations, their gradients and
/// what the backward pass keeps, in f32.
pub const UNIT_BYTES: usize = 16;

/// A run's memory, estimated: bytes, and the product they come from, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Bytes the run is expected to hold at its peak.
    pub bytes: f64,
    /// How they were counted, e.g. "8 optimizers × 10000001 points × 96 bytes".
    pub product: String,
}

/// The most memory a run may take, and where that number comes from (for the refusal).
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    /// Bytes.
    pub bytes: f64,
    /// Where it comes from, e.g. `--memory-limit` or "half this machine's 16.8 GB".
    pub source: String,
}

impl Limit {
    /// A limit the user gave, named by the option that gave it.
    pub fn given(bytes: u64, source: impl Into<String>) -> Limit {
        Limit {
            bytes: bytes as f64,
            source: source.into(),
        }
    }

    /// The default: half this machine's memory, or 4 GiB where the system does not
    /// tell it.
    pub fn default_for_machine() -> Limit {
        match machine_memory() {
            Some(m) => Limit {
                bytes: m as f64 * DEFAULT_SHARE,
                source: format!("half this machine's {}", human(m as f64)),
            },
            None => Limit {
                bytes: FALLBACK as f64,
                source: "the default where the machine's memory is unknown".into(),
            },
        }
    }

    /// `Ok` when `estimate` fits; else the refusal: how much, from what, over which
    /// limit, then what to `lower` (the front's names of the settings) and how to
    /// `raise` the limit (the front's option).
    pub fn check(&self, estimate: &Estimate, lower: &str, raise: &str) -> Result<(), String> {
        if estimate.bytes <= self.bytes {
            return Ok(());
        }
        Err(format!(
            "this run would take about {} ({}), more than the limit of {} ({}); lower {lower}, or raise the limit with {raise}",
            human(estimate.bytes),
            estimate.product,
            human(self.bytes),
            self.source,
        ))
    }
}

/// What a race of `optimizers` × `steps` holds: every point, and the CSV.
pub fn race_memory(optimizers: usize, steps: usize) -> Estimate {
    let points = optimizers as f64 * (steps as f64 + 1.0);
    Estimate {
        bytes: points * POINT_BYTES as f64,
        product: format!(
            "{optimizers} optimizer{} × {} points × {POINT_BYTES} bytes",
            plural(optimizers),
            steps as u64 + 1
        ),
    }
}

/// What training `config` on images of `inputs` pixels holds: each optimizer's network
/// with its state, and the activations of a batch through it.
pub fn network_memory(config: &crate::train::TrainConfig, inputs: usize) -> Estimate {
    let mut sizes = vec![inputs];
    sizes.extend(&config.hidden);
    sizes.push(crate::data::mnist::CLASSES);
    let parameters: f64 = sizes
        .windows(2)
        .map(|w| (w[0] as f64 + 1.0) * w[1] as f64)
        .sum();
    let units: f64 = sizes.iter().map(|&s| s as f64).sum();
    let n = config.optimizers.len();
    let per_network =
        parameters * PARAMETER_BYTES as f64 + config.batch_size as f64 * units * UNIT_BYTES as f64;
    Estimate {
        bytes: n as f64 * per_network,
        product: format!(
            "{n} optimizer{} × ({parameters} parameters × {PARAMETER_BYTES} bytes + {} images × {units} units × {UNIT_BYTES} bytes)",
            plural(n),
            config.batch_size
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A size such as `8G`, `512M`, `1.5GiB` or `1000000` (bytes); K, M, G and T are
/// powers of 1024.
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
            crate::text::quoted(text)
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
    fn the_issues_race_is_38_gb_and_over_a_limit_names_its_product() {
        let e = race_memory(40, 10_000_000);
        assert_eq!(e.bytes, 40.0 * 10_000_001.0 * 96.0);
        assert_eq!(e.product, "40 optimizers × 10000001 points × 96 bytes");
        let refusal = Limit::given(1 << 30, "the limit's name")
            .check(&e, "these", "that")
            .unwrap_err();
        assert_eq!(
            refusal,
            "this run would take about 38.4 GB (40 optimizers × 10000001 points × 96 bytes), more than the limit of 1.1 GB (the limit's name); lower these, or raise the limit with that"
        );
        assert_eq!(
            Limit::given(1 << 30, "x").check(&race_memory(1, 30), "", ""),
            Ok(())
        );
        assert_eq!(
            race_memory(1, 30).product,
            "1 optimizer × 31 points × 96 bytes"
        );
    }
}
