//! "Did you mean": the known name closest to a misspelled one.

/// Levenshtein distance between `a` and `b`, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut last = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (last + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            last = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The name of `known` closest to `given` (ignoring case), when close enough to be a
/// likely misspelling: at most a third of the longer name's characters differ, and at
/// most 3. The first of equally close names wins; `given` itself is never suggested.
///
/// ```
/// use optimist::suggest::closest;
/// assert_eq!(closest("rmsporp", ["sgd", "rmsprop", "adam"]), Some("rmsprop"));
/// assert_eq!(closest("lrr", ["lr", "beta1"]), Some("lr"));
/// assert_eq!(closest("x", ["lr", "eps"]), None);
/// ```
pub fn closest<'a, S: AsRef<str> + ?Sized + 'a>(
    given: &str,
    known: impl IntoIterator<Item = &'a S>,
) -> Option<&'a str> {
    let lower = given.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for name in known {
        let name = name.as_ref();
        let d = distance(&lower, &name.to_lowercase());
        let longest = given.chars().count().max(name.chars().count());
        if name != given && d <= 3 && 3 * d <= longest && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, name));
        }
    }
    best.map(|(_, name)| name)
}

/// `" (did you mean 'NAME'?)"` for the closest of `known`, or nothing.
pub fn did_you_mean<'a, S: AsRef<str> + ?Sized + 'a>(
    given: &str,
    known: impl IntoIterator<Item = &'a S>,
) -> String {
    closest(given, known)
        .map(|n| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_misspellings_newcomers_make() {
        let names = [
            "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
        ];
        assert_eq!(closest("adm", names), Some("adam"));
        assert_eq!(closest("rmsporp", names), Some("rmsprop"));
        assert_eq!(closest("nesterow", names), Some("nesterov"));
        assert_eq!(closest("ADAM", names), Some("adam"));
        assert_eq!(
            closest("adam", ["adam"]),
            None,
            "a known name is not a misspelling"
        );
        assert_eq!(closest("lbfgs", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            did_you_mean("lrr", ["lr", "beta1"]),
            " (did you mean 'lr'?)"
        );
        assert_eq!(did_you_mean("zzz", ["lr"]), "");
    }
}
