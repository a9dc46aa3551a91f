//! How load-test numbers read: milliseconds, durations, plain numbers and bytes, as k6 prints
//! them. The leaf of `load`: every other module formats through here, so a number reads the
//! same in the summary, the baseline comparison, a threshold's name and an error. Pure
//! functions of their argument; nothing here imports from the rest of `load`.

use std::time::Duration;

/// Milliseconds as k6 prints them: `850µs`, `12.34ms`, `1.5s`.
pub(crate) fn ms_text(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0}µs", ms * 1000.0)
    } else if ms < 1000.0 {
        format!("{ms:.2}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        let minutes = (ms / 60_000.0).floor();
        format!(
            "{}m{:.1}s",
            minutes as u64,
            (ms - minutes * 60_000.0) / 1000.0
        )
    }
}

/// A duration for humans: `30s`, `1m30s`, `250ms`, `2.5s`.
pub(crate) fn duration_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        return format!("{}ms", ms.round() as u64);
    }
    let total = d.as_secs_f64();
    let minutes = (total / 60.0).floor() as u64;
    let seconds = total - minutes as f64 * 60.0;
    let seconds = if (seconds - seconds.round()).abs() < 0.05 {
        format!("{}s", seconds.round() as u64)
    } else {
        format!("{seconds:.1}s")
    };
    match minutes {
        0 => seconds,
        m => format!("{m}m{seconds}"),
    }
}

/// A number as k6 prints it: an integer as an integer (`3`, `95`); otherwise rounded to at most
/// `decimals` decimals without trailing zeros (`2.5`), or with every digit when `decimals` is
/// `None`, for names a rounding would change (`99.95` in `p(99.95)`).
pub(crate) fn number_text(value: f64, decimals: Option<usize>) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    match decimals {
        None => format!("{value}"),
        Some(decimals) => {
            let text = format!("{value:.decimals$}");
            if text.contains('.') {
                text.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                text
            }
        }
    }
}

/// Bytes in decimal units: `512 B`, `1.5 kB`, `2.0 MB`.
pub(crate) fn bytes_text(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} {}", number_text(value.round(), Some(2)), UNITS[0])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(ms_text(0.25), "250µs");
        assert_eq!(ms_text(12.345), "12.35ms");
        assert_eq!(ms_text(1500.0), "1.50s");
        assert_eq!(duration_text(Duration::from_secs(90)), "1m30s");
        assert_eq!(duration_text(Duration::from_millis(2500)), "2.5s");
        assert_eq!(duration_text(Duration::from_millis(250)), "250ms");
        assert_eq!(number_text(3.0, Some(2)), "3");
        assert_eq!(number_text(2.5, Some(2)), "2.5");
        assert_eq!(number_text(9.999, Some(2)), "10");
        assert_eq!(number_text(99.95, None), "99.95");
        assert_eq!(number_text(95.0, None), "95");
        assert_eq!(bytes_text(1500.0), "1.5 kB");
    }
}
