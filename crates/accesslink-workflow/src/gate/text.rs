//! Text rules shared by the gate: what counts as a visible character, and how a
//! resource group's name is normalised.

/// Whether `c` shows nothing on its own: whitespace, a control character, a
/// format character (Unicode category Cf: zero-width spaces and joiners, bidi
/// controls, the byte-order mark, tag characters, …), a filler that renders blank
/// (Hangul fillers, the braille blank), a variation selector or a combining mark
/// of the generic combining blocks.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_format(c) || is_blank_filler(c)
}

/// Unicode category Cf (format characters), as of Unicode 15.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Characters outside Cf that render as nothing on their own.
fn is_blank_filler(c: char) -> bool {
    matches!(
        c,
        // Combining marks of the generic blocks (no glyph without a base), the
        // combining grapheme joiner U+034F included.
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
            // Variation selectors and Mongolian free variation selectors.
            | '\u{180B}'..='\u{180D}'
            | '\u{180F}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0100}'..='\u{E01EF}'
            // Hangul fillers and the braille blank.
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{2800}'
    )
}

/// A resource group's name as compared: control and format characters removed
/// wherever they are, invisible characters trimmed from both ends, lower-cased.
/// `PROD`, ` prod`, `prod ` and `pro\u{200B}d` are all `prod`.
pub(crate) fn normalise_group(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|&c| !(c.is_control() || is_format(c)))
        .collect();
    kept.trim_matches(is_invisible).to_lowercase()
}

/// The number of visible characters in `s` (every character for which
/// [`is_invisible`] is false).
pub(crate) fn visible_len(s: &str) -> usize {
    s.chars().filter(|&c| !is_invisible(c)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_not_counted() {
        assert_eq!(visible_len("ITSM down"), 8);
        assert_eq!(visible_len(&"\u{200B}".repeat(12)), 0);
        assert_eq!(
            visible_len("\u{200C}\u{200D}\u{2060}\u{FEFF}\u{00AD}\u{202E}\u{E0041}\t\n\u{7}"),
            0
        );
        assert_eq!(visible_len("\u{3000}\u{00A0}\u{3164}\u{2800}\u{115F}"), 0);
        assert_eq!(visible_len("e\u{0301}\u{0301}\u{0301}"), 1);
        assert_eq!(visible_len("Ausfall des Tickets"), 17);
        assert_eq!(visible_len("障害対応中"), 5);
    }

    #[test]
    fn group_names_are_normalised() {
        for name in [
            "prod",
            "PROD",
            " prod",
            "prod ",
            "\tProd\n",
            "pro\u{200B}d",
            "\u{FEFF}prod\u{3000}",
        ] {
            assert_eq!(normalise_group(name), "prod", "{name:?}");
        }
        assert_eq!(normalise_group("DB Prod"), "db prod");
        assert_eq!(normalise_group(" \u{200B} "), "");
    }
}
