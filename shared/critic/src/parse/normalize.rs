//! Text folding shared by the parsers: full-width and CJK punctuation to ASCII, markdown emphasis
//! removed, so `**[1]**`, `【1】`, `［１］` and `：` read like their plain ASCII forms.

/// Fold width and punctuation and drop markdown emphasis (`*`, `` ` ``); case is kept.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '`' => {}
            // Full-width ASCII variants (！ .. ～) map onto ASCII by a fixed offset.
            '\u{FF01}'..='\u{FF5E}' => {
                out.push(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c));
            }
            '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' => out.push(' '),
            '【' | '〔' | '〖' | '〘' | '〚' | '⟦' => out.push('['),
            '】' | '〕' | '〗' | '〙' | '〛' | '⟧' => out.push(']'),
            '「' | '」' | '『' | '』' | '“' | '”' | '„' | '«' | '»' => out.push('"'),
            '‘' | '’' | '‚' => out.push('\''),
            '。' | '｡' => out.push('.'),
            '、' => out.push(','),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\r' => {}
            _ => out.push(c),
        }
    }
    out
}

/// [`fold`] then lowercase.
pub(crate) fn fold_lower(text: &str) -> String {
    fold(text).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_and_markdown() {
        assert_eq!(fold("**The better response：［１］**"), "The better response:[1]");
        assert_eq!(fold("【2】"), "[2]");
        assert_eq!(fold_lower("Rating： 5"), "rating: 5");
    }
}
