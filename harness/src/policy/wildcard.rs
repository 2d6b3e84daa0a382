//! IAM wildcard matching for `StringLike`, `ArnLike` and `Action` patterns.
//!
//! A policy pattern is never turned into a regular expression: `*` matches
//! any run of characters (including none), `?` matches exactly one
//! character, and every other character matches only itself. The matcher is
//! the classic greedy backtracking algorithm, linear in practice and
//! `O(pattern × text)` in the worst case, so a hostile pattern cannot make
//! evaluation blow up.

/// One element of a parsed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// A character that matches only itself.
    Char(char),
}

/// A wildcard pattern. Literal text added through [`Pattern::push_literal`]
/// never acts as a wildcard, which is how `${*}` and substituted policy
/// variables stay literal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses text in which every `*` and `?` is a wildcard.
    pub(crate) fn parse(text: &str) -> Self {
        let mut pattern = Pattern::default();
        pattern.push_wild(text);
        pattern
    }

    /// Appends text in which `*` and `?` are wildcards.
    pub(crate) fn push_wild(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(|c| match c {
            '*' => Token::Star,
            '?' => Token::One,
            other => Token::Char(other),
        }));
    }

    /// Appends text that matches only itself.
    pub(crate) fn push_literal(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(Token::Char));
    }

    /// Splits at the first `max - 1` occurrences of the literal character
    /// `separator`, as `str::splitn` does.
    pub(crate) fn split_segments(&self, separator: char, max: usize) -> Vec<Pattern> {
        let mut segments = vec![Pattern::default()];
        for &token in &self.tokens {
            if token == Token::Char(separator) && segments.len() < max {
                segments.push(Pattern::default());
            } else if let Some(last) = segments.last_mut() {
                last.tokens.push(token);
            }
        }
        segments
    }

    /// Reports whether `text` matches, comparing characters exactly.
    pub(crate) fn matches(&self, text: &str) -> bool {
        matches_tokens(&self.tokens, text, |a, b| a == b)
    }

    /// Reports whether `text` matches, ignoring letter case.
    pub(crate) fn matches_ignore_case(&self, text: &str) -> bool {
        matches_tokens(&self.tokens, text, chars_eq_ignore_case)
    }
}

/// Reports whether `text` matches `pattern`, comparing characters exactly.
#[cfg(test)]
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    Pattern::parse(pattern).matches(text)
}

/// Reports whether `text` matches `pattern`, ignoring letter case.
pub(crate) fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    // Most action patterns name one action outright; comparing them needs
    // no parsed pattern.
    if !has_wildcard(pattern) {
        return pattern.chars().count() == text.chars().count()
            && pattern
                .chars()
                .zip(text.chars())
                .all(|(a, b)| chars_eq_ignore_case(a, b));
    }
    Pattern::parse(pattern).matches_ignore_case(text)
}

/// Reports whether a string contains a character that `StringLike` would
/// treat as a wildcard.
pub(crate) fn has_wildcard(value: &str) -> bool {
    value.contains(['*', '?'])
}

fn chars_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Matches character by character, with `t` a byte offset into `text` that
/// always lies on a character boundary, so no copy of the text is needed.
fn matches_tokens(pattern: &[Token], text: &str, eq: impl Fn(char, char) -> bool) -> bool {
    let next_char = |at: usize| text[at..].chars().next();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` seen and the text position it was tried at,
    // so a mismatch can retry with the star absorbing one more character.
    let mut star: Option<(usize, usize)> = None;

    while let Some(current) = next_char(t) {
        let token = pattern.get(p).copied();
        if token == Some(Token::Star) {
            star = Some((p, t));
            p += 1;
            continue;
        }

        let single = match token {
            Some(Token::One) => true,
            Some(Token::Char(c)) => eq(c, current),
            _ => false,
        };
        if single {
            p += 1;
            t += current.len_utf8();
        } else if let Some((star_p, star_t)) = star {
            // The star absorbs the character at its text position.
            let absorbed = next_char(star_t).map_or(1, char::len_utf8);
            p = star_p + 1;
            t = star_t + absorbed;
            star = Some((star_p, t));
        } else {
            return false;
        }
    }

    pattern[p..].iter().all(|&token| token == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_empty_and_runs() {
        assert!(matches("a*", "a"));
        assert!(matches("a*", "abc"));
        assert!(matches("*", ""));
        assert!(matches("*c", "abc"));
        assert!(matches("a*b*c", "axxbyyc"));
    }

    #[test]
    fn question_mark_matches_one_char() {
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("a?c", "abbc"));
        assert!(matches("?", "é"));
    }

    #[test]
    fn literal_chars_match_exactly() {
        assert!(!matches("abc", "abd"));
        assert!(!matches("abc", "ABC"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "axb"));
        assert!(matches("[x]", "[x]"));
    }

    #[test]
    fn backtracking_finds_late_match() {
        assert!(matches("*ab", "aaab"));
        assert!(!matches("*ab", "aaba"));
        assert!(matches(
            "system:serviceaccount:*:app",
            "system:serviceaccount:ns:app"
        ));
    }

    #[test]
    fn backtracking_steps_over_multibyte_chars() {
        assert!(matches("*é", "aéé"));
        assert!(matches("a*ü?", "aßüüx"));
        assert!(matches("*ü?", "üü"));
        assert!(!matches("*ü?", "ü"));
        assert!(matches("?*?", "日本"));
        assert!(!matches("?*?", "日"));
        assert!(matches_ignore_case("*É", "aé"));
        assert!(matches_ignore_case("ÄB", "äb"));
        assert!(!matches_ignore_case("ÄB", "äbc"));
    }

    #[test]
    fn ignore_case_folds_both_sides() {
        assert!(matches_ignore_case(
            "STS:Assume*",
            "sts:assumerolewithwebidentity"
        ));
        assert!(!matches_ignore_case("sts:Get*", "sts:AssumeRole"));
    }

    #[test]
    fn literal_push_keeps_star_literal() {
        let mut pattern = Pattern::parse("a");
        pattern.push_literal("*");
        pattern.push_wild("*");
        assert!(pattern.matches("a*b"));
        assert!(!pattern.matches("ab"));
    }

    #[test]
    fn pathological_pattern_finishes() {
        let pattern = "*a".repeat(50);
        let text = "a".repeat(49);
        assert!(!matches(&pattern, &text));
    }
}
