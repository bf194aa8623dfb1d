//! Hyperparameters: their values, allowed ranges and descriptions, and the
//! `NAME:KEY=VALUE,...` specs that set them from text.
//!
//! Each optimizer declares its configuration once with [`config!`](crate::config):
//! the struct with its documented defaults, the ranges that [`Configurable::validate`]
//! checks, and the [`OptimizerInfo`] that `optimist list` prints all come from it.

use crate::Error;
use std::fmt;

/// Where a hyperparameter's value may lie.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Any finite number.
    Any,
    /// A finite number > 0.
    Positive,
    /// A finite number >= 0.
    NonNegative,
    /// A number in [0, 1).
    Unit,
    /// A number in [0, 1].
    UnitClosed,
    /// A whole number >= `min` (for counts: steps, epochs, iterations).
    AtLeast(u64),
    /// A finite number in [lo, hi] (ends included when the flag is true).
    Between {
        /// Lower end.
        lo: f64,
        /// Whether `lo` itself is allowed.
        lo_incl: bool,
        /// Upper end.
        hi: f64,
        /// Whether `hi` itself is allowed.
        hi_incl: bool,
    },
}

impl Range {
    /// Whether `x` lies in the range (never for NaN or an infinity).
    pub fn contains(self, x: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        match self {
            Range::Any => true,
            Range::Positive => x > 0.0,
            Range::NonNegative => x >= 0.0,
            Range::Unit => (0.0..1.0).contains(&x),
            Range::UnitClosed => (0.0..=1.0).contains(&x),
            Range::AtLeast(min) => x.fract() == 0.0 && x >= min as f64,
            Range::Between {
                lo,
                lo_incl,
                hi,
                hi_incl,
            } => {
                (if lo_incl { x >= lo } else { x > lo }) && (if hi_incl { x <= hi } else { x < hi })
            }
        }
    }

    /// The range in words, for the value named `key`: e.g. `0 <= beta1 < 1`.
    pub fn describe(self, key: &str) -> String {
        match self {
            Range::Any => format!("{key} any finite number"),
            Range::Positive => format!("{key} > 0 and finite"),
            Range::NonNegative => format!("{key} >= 0 and finite"),
            Range::Unit => format!("0 <= {key} < 1"),
            Range::UnitClosed => format!("0 <= {key} <= 1"),
            Range::AtLeast(min) => format!("{key} a whole number >= {min}"),
            Range::Between {
                lo,
                lo_incl,
                hi,
                hi_incl,
            } => format!(
                "{lo} {} {key} {} {hi}",
                if lo_incl { "<=" } else { "<" },
                if hi_incl { "<=" } else { "<" }
            ),
        }
    }
}

/// A hyperparameter's value, whatever its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A number.
    Num(f64),
    /// A whole number (a count of steps or iterations).
    Int(u64),
    /// A switch.
    Bool(bool),
    /// Two numbers, written `A/B` (e.g. `betas=0.9/0.999`).
    Pair(f64, f64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(x) => f.write_str(&number(*x)),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Pair(a, b) => write!(f, "{}/{}", number(*a), number(*b)),
        }
    }
}

impl Value {
    /// Whether two values are the same setting: equal, or a number and a whole
    /// number of the same value (state files of version 1 held whole numbers as
    /// numbers).
    pub fn same(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::Num(x), Value::Int(n)) | (Value::Int(n), Value::Num(x)) => x == n as f64,
            (a, b) => a == b,
        }
    }

    /// The value as a number, if it is one (a whole number too).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Num(x) => Some(x),
            Value::Int(n) => Some(n as f64),
            _ => None,
        }
    }
}

/// The shortest text that reads back as `x`: `0.3`, `1`, `1e-7`.
fn number(x: f64) -> String {
    let s = format!("{x:?}");
    match s.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => s,
    }
}

/// A Rust type a hyperparameter can have: `f64`, `u64`, `bool` or `(f64, f64)`.
pub trait HyperValue: Copy {
    /// What the text form looks like, for errors: e.g. `a finite number`.
    const EXPECTED: &'static str;
    /// This value as a [`Value`].
    fn to_value(self) -> Value;
    /// The value of this type a [`Value`] holds; `None` if it holds another type (a
    /// whole number is also a number, and a number of whole value a whole number).
    fn from_value(value: Value) -> Option<Self>;
    /// Parses the text form; `None` if it is not of this type.
    fn parse(text: &str) -> Option<Self>;
    /// The numbers that the range applies to.
    fn numbers(self) -> Vec<f64>;
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

impl HyperValue for f64 {
    const EXPECTED: &'static str = "a finite number";
    fn to_value(self) -> Value {
        Value::Num(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        value.as_f64()
    }
    fn parse(text: &str) -> Option<Self> {
        parse_number(text)
    }
    fn numbers(self) -> Vec<f64> {
        vec![self]
    }
}

impl HyperValue for u64 {
    const EXPECTED: &'static str = "a whole number";
    fn to_value(self) -> Value {
        Value::Int(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Int(n) => Some(n),
            // Whole numbers exactly representable, so that nothing is rounded.
            Value::Num(x) if x.fract() == 0.0 && (0.0..=9.007_199_254_740_992e15).contains(&x) => {
                Some(x as u64)
            }
            _ => None,
        }
    }
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        text.parse::<u64>()
            .ok()
            .or_else(|| Self::from_value(Value::Num(parse_number(text)?)))
    }
    fn numbers(self) -> Vec<f64> {
        vec![self as f64]
    }
}

impl HyperValue for bool {
    const EXPECTED: &'static str = "true or false";
    fn to_value(self) -> Value {
        Value::Bool(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        }
    }
    fn numbers(self) -> Vec<f64> {
        Vec::new()
    }
}

impl HyperValue for (f64, f64) {
    const EXPECTED: &'static str = "two finite numbers written A/B";
    fn to_value(self) -> Value {
        Value::Pair(self.0, self.1)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Pair(a, b) => Some((a, b)),
            _ => None,
        }
    }
    fn parse(text: &str) -> Option<Self> {
        let (a, b) = text.split_once('/')?;
        Some((parse_number(a)?, parse_number(b)?))
    }
    fn numbers(self) -> Vec<f64> {
        vec![self.0, self.1]
    }
}

/// One hyperparameter as `optimist list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    /// The key, e.g. `lr`.
    pub name: &'static str,
    /// The default value.
    pub default: Value,
    /// The allowed range of the value (of each number, for pairs).
    pub range: Range,
    /// What it does.
    pub doc: &'static str,
}

/// An optimizer as `optimist list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerInfo {
    /// The name used in specs, e.g. `adam`.
    pub name: &'static str,
    /// Whose formulas and defaults: `article`, `pytorch` or `optax`.
    pub convention: &'static str,
    /// The update in one line.
    pub formula: &'static str,
    /// The paper it comes from.
    pub paper: &'static str,
    /// Its hyperparameters with defaults and ranges.
    pub keys: Vec<KeyInfo>,
}

/// A configuration that can be read and written by key and checked.
///
/// Implemented by [`config!`](crate::config); the optimizers' configuration structs
/// are the types that implement it.
pub trait Configurable: Clone + fmt::Debug + Default {
    /// Name, convention, formula, paper and keys.
    fn info() -> OptimizerInfo;
    /// The current value of every key, in declaration order.
    fn values(&self) -> Vec<(&'static str, Value)>;
    /// Sets `key` from its text form (not yet range-checked: see [`Self::validate`]).
    fn set(&mut self, key: &str, text: &str) -> Result<(), Error>;
    /// Sets `key` to `value`, with no trip through text (not yet range-checked: see
    /// [`Self::validate`]); an error if the key is unknown or the value of another
    /// type.
    fn set_value(&mut self, key: &str, value: Value) -> Result<(), Error>;
    /// Checks that every value lies in its range, and any rule joining several values.
    fn validate(&self) -> Result<(), Error>;

    /// The default configuration with the keys of `spec` set, validated.
    fn from_spec(spec: &Spec) -> Result<Self, Error> {
        let mut config = Self::default();
        for (key, text) in &spec.values {
            config.set(key, text)?;
        }
        config.validate()?;
        Ok(config)
    }
}

/// Checks one declared value against its range; used by [`config!`](crate::config).
#[doc(hidden)]
pub fn check_range<V: HyperValue>(
    optimizer: &str,
    key: &str,
    value: V,
    range: Range,
) -> Result<(), Error> {
    if value.numbers().into_iter().all(|x| range.contains(x)) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            optimizer: optimizer.to_string(),
            key: key.to_string(),
            value: value.to_value().to_string(),
            allowed: range.describe(key),
        })
    }
}

/// The error for a rule joining several values (a `config!` `check:` line): `key` has
/// `value`, which is not allowed given the others; `allowed` says what is.
pub(crate) fn out_of_range(
    optimizer: &str,
    key: &str,
    value: impl fmt::Display,
    allowed: impl Into<String>,
) -> Error {
    Error::OutOfRange {
        optimizer: optimizer.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

/// Converts one value for `key`; used by [`config!`](crate::config).
#[doc(hidden)]
pub fn convert_value<V: HyperValue>(optimizer: &str, key: &str, value: Value) -> Result<V, Error> {
    V::from_value(value).ok_or_else(|| Error::BadValue {
        optimizer: optimizer.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        expected: V::EXPECTED.to_string(),
    })
}

/// The error for a key a configuration does not have; used by [`config!`](crate::config).
#[doc(hidden)]
pub fn unknown_key(optimizer: &str, key: &str, known: &[&str]) -> Error {
    Error::UnknownKey {
        optimizer: optimizer.to_string(),
        key: key.to_string(),
        known: known.iter().map(|k| k.to_string()).collect(),
        elsewhere: None,
    }
}

/// Parses one value for `key`; used by [`config!`](crate::config).
#[doc(hidden)]
pub fn parse_value<V: HyperValue>(optimizer: &str, key: &str, text: &str) -> Result<V, Error> {
    V::parse(text).ok_or_else(|| Error::BadValue {
        optimizer: optimizer.to_string(),
        key: key.to_string(),
        value: text.to_string(),
        expected: V::EXPECTED.to_string(),
    })
}

/// Declares an optimizer's configuration: a struct of documented hyperparameters with
/// defaults, and its [`Configurable`] implementation (name, formula, paper, ranges).
///
/// ```text
/// config! {
///     /// Doc of the struct.
///     pub struct Sgd {
///         name: "sgd", convention: "article",
///         formula: "p ← p − lr·g",
///         paper: "Robbins & Monro (1951)";
///         /// Learning rate.
///         lr: f64 = 0.01, Range::Positive;
///     }
/// }
/// ```
/// An optional `check: |c| ...;` line after the paper adds a rule over several keys.
#[macro_export]
macro_rules! config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            name: $oname:literal, convention: $conv:literal,
            formula: $formula:literal,
            paper: $paper:literal;
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $default:expr, $range:expr;
            )*
        }
    ) => {
        // Without a check line: the arm below with a check that always passes. (An
        // optional `check:` in one arm would be ambiguous with a field named by an ident.)
        $crate::config! {
            $(#[$meta])*
            pub struct $name {
                name: $oname, convention: $conv,
                formula: $formula,
                paper: $paper;
                check: |_c| Ok::<(), $crate::Error>(());
                $(
                    $(#[doc = $fdoc])*
                    $field : $ty = $default, $range;
                )*
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            name: $oname:literal, convention: $conv:literal,
            formula: $formula:literal,
            paper: $paper:literal;
            check: |$c:ident| $check:expr;
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $default:expr, $range:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                #[doc = concat!("\n\nDefault: `", stringify!($default), "`.")]
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $crate::hyper::Configurable for $name {
            fn info() -> $crate::hyper::OptimizerInfo {
                $crate::hyper::OptimizerInfo {
                    name: $oname,
                    convention: $conv,
                    formula: $formula,
                    paper: $paper,
                    keys: vec![$(
                        $crate::hyper::KeyInfo {
                            name: stringify!($field),
                            default: $crate::hyper::HyperValue::to_value($default as $ty),
                            range: $range,
                            doc: concat!($($fdoc),*).trim_ascii(),
                        },
                    )*],
                }
            }

            fn values(&self) -> Vec<(&'static str, $crate::hyper::Value)> {
                vec![$((stringify!($field), $crate::hyper::HyperValue::to_value(self.$field)),)*]
            }

            fn set(&mut self, key: &str, text: &str) -> Result<(), $crate::Error> {
                match key {
                    $(stringify!($field) => {
                        self.$field = $crate::hyper::parse_value::<$ty>($oname, key, text)?;
                    })*
                    _ => {
                        return Err($crate::hyper::unknown_key(
                            $oname,
                            key,
                            &[$(stringify!($field)),*],
                        ))
                    }
                }
                Ok(())
            }

            fn set_value(
                &mut self,
                key: &str,
                value: $crate::hyper::Value,
            ) -> Result<(), $crate::Error> {
                match key {
                    $(stringify!($field) => {
                        self.$field = $crate::hyper::convert_value::<$ty>($oname, key, value)?;
                    })*
                    _ => {
                        return Err($crate::hyper::unknown_key(
                            $oname,
                            key,
                            &[$(stringify!($field)),*],
                        ))
                    }
                }
                Ok(())
            }

            fn validate(&self) -> Result<(), $crate::Error> {
                $($crate::hyper::check_range($oname, stringify!($field), self.$field, $range)?;)*
                let $c = self;
                $check?;
                Ok(())
            }
        }
    };
}

/// Declares `pub struct Name(pub Config);`: a rule that runs under another
/// configuration's name, keys and checks. For configurations that pick among several
/// rules when built (see [`Build`](crate::Build)), so that each rule
/// carries only the state it uses.
macro_rules! variant {
    (
        $(#[$meta:meta])*
        pub struct $name:ident(pub $config:ty);
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct $name(pub $config);

        impl $crate::hyper::Configurable for $name {
            fn info() -> $crate::hyper::OptimizerInfo {
                <$config as $crate::hyper::Configurable>::info()
            }
            fn values(&self) -> Vec<(&'static str, $crate::hyper::Value)> {
                self.0.values()
            }
            fn set(&mut self, key: &str, text: &str) -> Result<(), $crate::Error> {
                self.0.set(key, text)
            }
            fn set_value(
                &mut self,
                key: &str,
                value: $crate::hyper::Value,
            ) -> Result<(), $crate::Error> {
                self.0.set_value(key, value)
            }
            fn validate(&self) -> Result<(), $crate::Error> {
                self.0.validate()
            }
        }
    };
}
pub(crate) use variant;

/// An optimizer named with its hyperparameters: `NAME[:KEY=VALUE[,KEY=VALUE...]]`.
///
/// ```
/// let spec: optimist::Spec = "rmsprop:lr=0.05,decay_rate=0.9".parse().unwrap();
/// assert_eq!(spec.name, "rmsprop");
/// assert_eq!(spec.values, vec![("lr".into(), "0.05".into()), ("decay_rate".into(), "0.9".into())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The optimizer's name.
    pub name: String,
    /// The keys set, with their values as written, in order.
    pub values: Vec<(String, String)>,
}

impl std::str::FromStr for Spec {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::BadSpec {
            spec: text.to_string(),
            why: why.to_string(),
        };
        // A part of the spec, for the reason: quoted, unless the spec is already cut
        // in the message (then it is said by position, so no input is echoed twice).
        let long = text.chars().count() > crate::text::ECHO_LIMIT;
        let part = |k: usize, item: &str| {
            if long {
                format!(
                    "item {} after the name ({} characters)",
                    k + 1,
                    item.chars().count()
                )
            } else {
                crate::text::quoted(item)
            }
        };
        let (name, rest) = match text.split_once(':') {
            Some((n, r)) => (n.trim(), Some(r)),
            None => (text.trim(), None),
        };
        if name.is_empty() {
            return Err(bad("the optimizer name is missing"));
        }
        let mut values: Vec<(String, String)> = Vec::new();
        if let Some(rest) = rest {
            for (k, item) in rest.split(',').enumerate() {
                let (key, value) = item
                    .split_once('=')
                    .ok_or_else(|| bad(&format!("{} is not KEY=VALUE", part(k, item))))?;
                let (key, value) = (key.trim(), value.trim());
                if key.is_empty() || value.is_empty() {
                    return Err(bad(&format!("{} is not KEY=VALUE", part(k, item))));
                }
                if values.iter().any(|(k, _)| k == key) {
                    return Err(bad(&if long {
                        format!("the key of item {} after the name is given twice", k + 1)
                    } else {
                        format!("{} is given twice", crate::text::quoted(key))
                    }));
                }
                values.push((key.to_string(), value.to_string()));
            }
        }
        Ok(Spec {
            name: name.to_string(),
            values,
        })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (i, (k, v)) in self.values.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { ':' } else { ',' })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_and_rejects() {
        let s: Spec = "adam".parse().unwrap();
        assert_eq!(s.name, "adam");
        assert!(s.values.is_empty());
        let s: Spec = "adam:lr=0.3, beta1 = 0.8".parse().unwrap();
        assert_eq!(s.to_string(), "adam:lr=0.3,beta1=0.8");
        // A long spec is echoed once, cut.
        let long = format!("adam:{}", "x".repeat(60_000));
        let e = long.parse::<Spec>().unwrap_err().to_string();
        assert!(e.len() < 400, "{} bytes: {e}", e.len());
        assert_eq!(e.matches(&"x".repeat(40)).count(), 1, "{e}");
        assert!(e.contains("… (60005 characters in all)"), "{e}");
        assert!(
            e.contains("item 1 after the name (60000 characters) is not KEY=VALUE"),
            "{e}"
        );
        let e = "adam:lr".parse::<Spec>().unwrap_err().to_string();
        assert!(
            e.starts_with("bad optimizer spec 'adam:lr': 'lr' is not KEY=VALUE"),
            "{e}"
        );
        for bad in [
            ":lr=1",
            "adam:lr",
            "adam:lr=",
            "adam:=3",
            "adam:lr=1,lr=2",
            "adam:",
        ] {
            let err = bad.parse::<Spec>().unwrap_err();
            assert!(matches!(err, Error::BadSpec { .. }), "{bad}: {err}");
        }
    }

    /// Whole numbers are their own kind: shown and parsed as integers, set from a
    /// `Value` with no trip through text, and a number that is not whole is refused.
    #[test]
    fn whole_numbers_are_integers() {
        use crate::optim::pytorch::Muon;
        let mut muon = Muon::default();
        assert_eq!(muon.values()[5], ("ns_steps", Value::Int(5)));
        assert_eq!(Value::Int(5).to_string(), "5");
        muon.set_value("ns_steps", Value::Int(3)).unwrap();
        assert_eq!(muon.ns_steps, 3);
        muon.set_value("ns_steps", Value::Num(4.0)).unwrap();
        assert_eq!(muon.ns_steps, 4);
        let e = muon.set_value("ns_steps", Value::Num(2.5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "muon: ns_steps = '2.5' is not a whole number"
        );
        let e = muon.set_value("lr", Value::Bool(true)).unwrap_err();
        assert_eq!(e.to_string(), "muon: lr = 'true' is not a finite number");
        assert_eq!(<u64 as HyperValue>::parse("12"), Some(12));
        assert_eq!(<u64 as HyperValue>::parse("1e3"), Some(1000));
        assert_eq!(<u64 as HyperValue>::parse("-1"), None);
        assert!(Value::Int(5).same(&Value::Num(5.0)));
        assert!(!Value::Int(5).same(&Value::Num(5.5)));
    }

    /// Setting the learning rate keeps the exact float given.
    #[test]
    fn learning_rates_are_set_as_numbers() {
        use crate::registry;
        let mut opt = registry::parse::<f64>("adam:lr=0.1", crate::Convention::Article).unwrap();
        for lr in [0.1 + 0.2, 1.0 / 3.0, 5e-324, 0.0] {
            opt.set_learning_rate(lr).unwrap();
            assert_eq!(opt.learning_rate().map(f64::to_bits), Some(lr.to_bits()));
        }
        assert!(opt.set_learning_rate(f64::NAN).is_err());
    }

    #[test]
    fn ranges_reject_non_finite_and_out_of_range() {
        assert!(Range::Positive.contains(1e-9));
        assert!(!Range::Positive.contains(0.0));
        assert!(!Range::Positive.contains(f64::INFINITY));
        assert!(Range::Unit.contains(0.0));
        assert!(!Range::Unit.contains(1.0));
        assert!(!Range::Any.contains(f64::NAN));
        assert_eq!(Range::Unit.describe("beta1"), "0 <= beta1 < 1");
        assert!(<(f64, f64)>::parse("0.9/0.999") == Some((0.9, 0.999)));
        assert!(<f64 as HyperValue>::parse("inf").is_none());
        assert!(<f64 as HyperValue>::parse("nan").is_none());
    }
}
