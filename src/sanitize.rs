//! Neutralises strings from evidence before they reach a terminal, a table or a PDF:
//! ANSI CSI/OSC/DCS sequences, C0/C1 controls, bidi overrides and zero-width characters
//! are removed or made visible, and very long strings are cut with a marker.

/// Removes escape sequences and invisible/dangerous characters. Newlines and tabs become
/// spaces unless `keep_newlines`.
pub fn clean(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI / OSC / DCS / APC / PM / SOS introduce sequences too.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string(&mut chars),
            '\n' if keep_newlines => out.push('\n'),
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_invisible(c) => {}
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `clean` without newlines, cut to `max` characters with an ellipsis.
pub fn line(s: &str, max: usize) -> String {
    let c = clean(s, false);
    if c.chars().count() <= max {
        c
    } else {
        let mut t: String = c.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' // zero-width, LRM/RLM
        | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}'
        | '\u{061c}'
        | '\u{00ad}')
}

fn skip_escape(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match it.peek().copied() {
        Some('[') => {
            it.next();
            skip_csi(it);
        }
        Some(']' | 'P' | '_' | '^' | 'X') => {
            it.next();
            skip_string(it);
        }
        Some(_) => {
            it.next();
        }
        None => {}
    }
}

fn skip_csi(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in it.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// OSC/DCS/APC strings end at BEL, ST (ESC \) or C1 ST.
fn skip_string(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = it.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if it.peek() == Some(&'\\') {
                    it.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_are_removed() {
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m", false), "ared");
        assert_eq!(clean("x\u{1b}]52;c;ZXZpbA==\u{7}y", false), "xy");
        assert_eq!(clean("t\u{1b}]0;title\u{1b}\\z", false), "tz");
        assert_eq!(clean("ab\u{202e}cd\u{200b}", false), "abcd");
        assert_eq!(clean("a\u{9b}2Jb", false), "ab");
        assert_eq!(clean("a\u{7}b\u{0}", false), "a\u{fffd}b\u{fffd}");
        assert_eq!(clean("l1\nl2", false), "l1 l2");
        assert_eq!(clean("l1\nl2", true), "l1\nl2");
        assert_eq!(line("abcdef", 4), "abc…");
    }
}
