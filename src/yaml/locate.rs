//! Placing what serde cannot check in YAML text: the line and column of a key (block or flow
//! style) or of a piece of text, so a rule broken after parsing (a bad URL, an unset `${VAR}`,
//! a bound) is reported as `file:line:column`, like serde's own errors. Text only, no parsing.

/// The 1-based line and column of the key at `keys` (mapping keys, or list indexes as
/// numbers). Block style is followed by indentation; flow style (`{a: 1}`) by searching after
/// the parent. `None` when the path cannot be found.
pub fn locate_key(text: &str, keys: &[&str]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0usize;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in keys {
        if let Ok(index) = key.parse::<usize>() {
            // The index-th `- ` item below the parent.
            let mut seen = 0;
            let mut hit = None;
            for (i, line) in lines.iter().enumerate().skip(from) {
                let indent = line.len() - line.trim_start().len();
                let trimmed = line.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                if i > from
                    && parent_indent.is_some_and(|p| indent <= p)
                    && !trimmed.starts_with('-')
                {
                    break;
                }
                if trimmed.starts_with("- ") || trimmed == "-" {
                    if seen == index {
                        hit = Some((i, indent));
                        break;
                    }
                    seen += 1;
                }
            }
            let (line, indent) = hit?;
            found = Some((line + 1, indent + 1));
            from = line;
            parent_indent = Some(indent);
            continue;
        }
        let patterns = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            let trimmed = line.trim_start().trim_start_matches("- ");
            let indent = line.len() - trimmed.len();
            if i > from
                && parent_indent.is_some_and(|p| indent <= p)
                && !line.trim().is_empty()
                && !line.trim_start().starts_with('#')
            {
                break;
            }
            if patterns.iter().any(|p| trimmed.starts_with(p.as_str())) {
                hit = Some((i, indent));
                break;
            }
            // Flow style: the key inside braces on this line.
            if let Some(col) = patterns.iter().find_map(|p| {
                line.match_indices(p.as_str())
                    .find(|(at, _)| {
                        *at > 0 && matches!(line.as_bytes()[at - 1], b'{' | b' ' | b',')
                    })
                    .map(|(at, _)| at)
            }) {
                if i > from || found.is_none() || col > 0 {
                    hit = Some((i, col));
                    break;
                }
            }
        }
        let (line, indent) = hit?;
        found = Some((line + 1, indent + 1));
        from = line;
        parent_indent = Some(indent);
    }
    found
}

/// The 1-based position of the first `needle` at or after 1-based `from_line`.
pub fn locate_text(text: &str, from_line: usize, needle: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find_map(|(i, line)| {
            line.find(needle)
                .map(|at| (i + 1, line[..at].chars().count() + 1))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_block_and_flow_style() {
        let text = "a:\n  b:\n    c: 1\n  d: {e: 2, f: 3}\nlist:\n  - x: 1\n  - y: 2\n";
        assert_eq!(locate_key(text, &["a", "b", "c"]), Some((3, 5)));
        assert_eq!(locate_key(text, &["a", "d", "f"]), Some((4, 13)));
        assert_eq!(locate_key(text, &["list", "1"]), Some((7, 3)));
        assert_eq!(locate_key(text, &["a", "zz"]), None);
    }
}
