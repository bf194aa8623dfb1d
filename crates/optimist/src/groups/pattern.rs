//! Group patterns and group specs: which tensors a group takes, and what it sets.

use crate::hyper::Spec;
use crate::Error;
use std::fmt;

/// A glob over tensor names: `*` matches any run of characters (none included), `?`
/// exactly one, every other character itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    chars: Vec<char>,
}

impl Pattern {
    /// The pattern `text`: not empty, and without `:` (which ends it in a group spec).
    pub fn new(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bad = |why: &str| {
            Error::Group {
            pattern: text.to_string(),
            why: format!("{why}; a pattern is a tensor name with * (any characters) and ? (one character), e.g. *.bias"),
        }
        };
        if text.is_empty() {
            return Err(bad("the pattern is empty"));
        }
        if text.contains(':') {
            return Err(bad("a pattern cannot hold ':'"));
        }
        Ok(Pattern {
            text: text.to_string(),
            chars: text.chars().collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches all of `name`.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let p = &self.chars;
        let (mut i, mut j) = (0, 0);
        // The last `*` and the name position it was tried at, to backtrack to.
        let mut star: Option<(usize, usize)> = None;
        while j < name.len() {
            if i < p.len() && (p[i] == '?' || p[i] == name[j]) {
                i += 1;
                j += 1;
            } else if i < p.len() && p[i] == '*' {
                star = Some((i, j));
                i += 1;
            } else if let Some((si, sj)) = star {
                // The star takes one more character.
                i = si + 1;
                j = sj + 1;
                star = Some((si, sj + 1));
            } else {
                return false;
            }
        }
        p[i..].iter().all(|&c| c == '*')
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Pattern {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        Pattern::new(text)
    }
}

/// A parameter group as written on a command line: `PATTERN:KEY=VALUE[,KEY=VALUE...]`,
/// e.g. `*.bias:weight_decay=0`.
///
/// ```
/// let group: optimist::groups::GroupSpec = "*.bias:weight_decay=0".parse()?;
/// let base: optimist::Spec = "adamw:lr=0.001,weight_decay=0.1".parse()?;
/// assert_eq!(group.apply_to(&base).to_string(), "adamw:lr=0.001,weight_decay=0");
/// # Ok::<(), optimist::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// The tensors of the group.
    pub pattern: Pattern,
    /// The keys the group sets, with their values as written, in order.
    pub values: Vec<(String, String)>,
}

impl GroupSpec {
    /// The spec of the group's optimizer: `base` with the group's keys set.
    pub fn apply_to(&self, base: &Spec) -> Spec {
        let mut spec = base.clone();
        for (key, value) in &self.values {
            match spec.values.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.clone(),
                None => spec.values.push((key.clone(), value.clone())),
            }
        }
        spec
    }
}

impl std::str::FromStr for GroupSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        const FORM: &str = "expected PATTERN:KEY=VALUE[,KEY=VALUE...], e.g. *.bias:weight_decay=0";
        let (pattern, rest) = text.split_once(':').unwrap_or((text, ""));
        let pattern = Pattern::new(pattern)?;
        let bad = |why: String| Error::Group {
            pattern: pattern.to_string(),
            why: format!("{why}; {FORM}"),
        };
        if rest.trim().is_empty() {
            return Err(bad("it sets no hyperparameter".to_string()));
        }
        // An optimizer spec's syntax and checks, with the pattern in the name's place.
        let spec: Spec = format!("group:{rest}").parse().map_err(|e| match e {
            Error::BadSpec { why, .. } => bad(why),
            other => other,
        })?;
        Ok(GroupSpec {
            pattern,
            values: spec.values,
        })
    }
}

impl fmt::Display for GroupSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        write!(f, "{}:{}", self.pattern, items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        let m = |p: &str, n: &str| Pattern::new(p).unwrap().matches(n);
        assert!(m("*.bias", "layer1.bias"));
        assert!(m("*.bias", ".bias"));
        assert!(!m("*.bias", "layer1.bias_scale"));
        assert!(m("layer1.*", "layer1.weight"));
        assert!(!m("layer1.*", "layer10.weight"));
        assert!(m("layer?.*", "layer3.bias"));
        assert!(!m("layer?.*", "layer.bias"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("**x", "yyx"));
        assert!(m("é?", "éè"));
        assert!(m("fc1.weight", "fc1.weight"));
        assert!(!m("fc1.weight", "fc1.weights"));
    }

    #[test]
    fn group_specs_parse_and_name_their_errors() {
        let g: GroupSpec = " *.bias : weight_decay=0, lr=0.01".parse().unwrap();
        assert_eq!(g.pattern.as_str(), "*.bias");
        assert_eq!(g.to_string(), "*.bias:weight_decay=0,lr=0.01");
        let err = |t: &str| t.parse::<GroupSpec>().unwrap_err().to_string();
        assert_eq!(
            err("*.bias"),
            "parameter group '*.bias': it sets no hyperparameter; expected PATTERN:KEY=VALUE[,KEY=VALUE...], e.g. *.bias:weight_decay=0"
        );
        assert_eq!(
            err("*.bias:weight_decay"),
            "parameter group '*.bias': 'weight_decay' is not KEY=VALUE; expected PATTERN:KEY=VALUE[,KEY=VALUE...], e.g. *.bias:weight_decay=0"
        );
        assert!(err(":lr=1").starts_with("parameter group '': the pattern is empty"));
        assert!(err("*.bias:lr=1,lr=2").contains("'lr' is given twice"));
    }
}
