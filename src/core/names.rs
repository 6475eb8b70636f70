//! Names as people read them: the invisible characters a name can hide (Unicode's
//! Default_Ignorable_Code_Point) and the fold under which two spellings read the same
//! (NFKC_Casefold, then white space trimmed). Pure.
//!
//! Keep entries and protect globs match names exactly; this fold only finds the near misses
//! (`ci-prod` against `ci-prod\u{200b}`, NFC against NFD, `CI-PROD`, a trailing no-break space),
//! which the planner refuses to delete.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (Unicode 16.0):
/// characters that render as nothing when a font has no glyph for them.
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// True for a Default_Ignorable_Code_Point.
pub fn is_default_ignorable(c: char) -> bool {
    let c = c as u32;
    DEFAULT_IGNORABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// `s` folded as NFKC_Casefold does (default ignorables dropped, compatibility forms and case
/// folded, composed), then trimmed of white space: two names that fold alike read alike.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s
            .trim_matches(|c: char| c.is_ascii_whitespace())
            .to_ascii_lowercase();
    }
    let folded: String = s
        .chars()
        .filter(|c| !is_default_ignorable(*c))
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkc()
        .collect();
    folded.trim().to_owned()
}

/// How many single-character edits turn `a` into `b` (Levenshtein), for did-you-mean hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Of `candidates`, the one `word` is most likely a misspelling of: one to `max` edits away.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| (1..=max).contains(d))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
#[allow(clippy::too_many_lines)] // tables of cases, spelled out
mod tests {
    use super::*;

    #[test]
    fn spellings_that_read_alike_fold_alike() {
        let same = [
            ("ci-prod", "ci-prod"),
            ("ci-prod", "CI-PROD"),
            ("ci-prod", "ci-\u{200b}prod"),
            ("ci-prod", "ci-prod\u{a0}"),
            ("ci-prod", " ci-prod\t"),
            ("ci-prod", "ci-prod\u{feff}"),
            ("café", "cafe\u{301}"),
            ("straße", "STRASSE"),
            ("ｃｉ-ｐｒｏｄ", "ci-prod"),
            ("ﬁnance", "finance"),
        ];
        for (a, b) in same {
            assert_eq!(fold(a), fold(b), "{a:?} vs {b:?}");
        }
        let different = [("ci-prod", "ci-prod2"), ("ci-prod", "ci prod"), ("a", "á")];
        for (a, b) in different {
            assert_ne!(fold(a), fold(b), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn default_ignorables_are_known() {
        for c in [
            '\u{ad}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            assert!(is_default_ignorable(c), "{c:?}");
        }
        for c in ['a', ' ', '\u{a0}', '\u{2028}', '桌'] {
            assert!(!is_default_ignorable(c), "{c:?}");
        }
    }
}
