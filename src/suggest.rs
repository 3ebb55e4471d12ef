//! "Did you mean …?": the known name closest to a misspelt one.

/// How alike two names must be (Jaro-Winkler, 0–1) to be offered as the one meant.
const ALIKE: f64 = 0.8;

/// The candidate closest to `word`, when one is close enough to be what was meant.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= ALIKE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` for `word`, or nothing.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_found_and_strangers_are_not() {
        let jobs = ["morning", "research", "plan", "work", "wrapup"];
        assert_eq!(closest("mornin", jobs), Some("morning"));
        assert_eq!(closest("Wrap-up", jobs), Some("wrapup"));
        assert_eq!(closest("deploy", jobs), None);
        assert_eq!(hint("plna", jobs), "; did you mean `plan`?");
        assert_eq!(hint("zzz", jobs), "");
    }
}
