//! How commands print results: tables (comfy-table, borders only on a terminal) and JSON with a
//! `version` field.

use std::io::IsTerminal as _;

/// The version of every `--format json` document this build prints.
pub const JSON_VERSION: u32 = 1;

/// Renders rows as a table: boxed on a terminal, plain aligned columns otherwise.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = comfy_table::Table::new();
    if std::io::stdout().is_terminal() {
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    } else {
        table.load_preset(comfy_table::presets::NOTHING);
    }
    table.set_header(header.iter().copied());
    for row in rows {
        table.add_row(row);
    }
    let mut text = table.to_string();
    // The borderless preset pads lines with trailing spaces; scripts do not want them.
    text = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    text
}

/// Prints a JSON document (pretty) to stdout.
pub fn json(value: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// An optional number for a table cell.
pub fn cell<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Text shortened to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}
