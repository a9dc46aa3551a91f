//! `traceforge load --report FILE.html`: the run as one self-contained HTML page, k6's web
//! dashboard report in spirit. Charts are inline SVG drawn here from the run's fixed-resolution
//! [`Timeline`](super::metrics::Timeline) (request rate, latency p50/p90/p95/p99, TTFT and
//! failures over time) and from the history (one small trend chart per metric); tables hold the
//! thresholds with pass/fail, the baseline comparison, the checks and the errors. The page
//! fetches nothing: no CDN, no fonts, no images, and its one small inline script only counts
//! the drawn points into `data-rendered` attributes (what the headless-browser test reads) and
//! adds hover read-outs. Every user-controlled text (scenario and check names, URLs, error
//! messages, file names) is escaped. A pure function of the report and the history; no I/O.

use std::fmt::Write as _;

use super::history::{TrendUnit, TREND_METRICS};
use super::metrics::{Aggregation, Bucket, Metric};
use super::report::Report;
use super::summary::{mark, percent, trend_columns, unit_text, value_text, verdict};
use super::units::{duration_text, ms_text, number_text};
use crate::markup::{xml, xml_text};
use crate::store::load_runs::LoadRun;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

const COLOURS: [&str; 5] = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed"];

/// One line of a chart: its name and its `(x, y)` points (x in seconds or run number).
struct Line {
    name: String,
    points: Vec<(f64, f64)>,
}

/// The whole page. `history` is this scenario's earlier runs and this one, oldest first.
pub fn html(report: &Report, history: &[LoadRun]) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("traceforge load: {}", report.scenario_file);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        xml_text(&title)
    );
    let passed = report.passed();
    let _ = writeln!(
        out,
        "<header><h1>{}</h1><p class=\"verdict {}\">{}</p></header>",
        xml_text(&title),
        if passed { "pass" } else { "fail" },
        if report.interrupted {
            "interrupted"
        } else if passed {
            "passed"
        } else {
            "failed"
        }
    );
    overview(&mut out, report);
    charts(&mut out, report);
    thresholds(&mut out, report);
    if let Some(comparison) = &report.baseline {
        let _ = writeln!(
            out,
            "<section><h2>Baseline</h2><p>{}</p>",
            xml_text(&verdict(comparison))
        );
        out.push_str(
            "<table><thead><tr><th></th><th>metric</th><th>stat</th><th>baseline</th>\
             <th>now</th><th>change</th></tr></thead><tbody>\n",
        );
        for r in &comparison.rows {
            let _ = writeln!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                if r.regressed { "fail" } else { "pass" },
                mark(!r.regressed),
                xml_text(&r.metric),
                xml_text(&r.stat),
                xml_text(&unit_text(r.unit, r.baseline)),
                xml_text(&unit_text(r.unit, r.current)),
                r.change()
                    .map_or_else(|| "-".into(), |c| format!("{:+.1}%", c * 100.0)),
            );
        }
        out.push_str("</tbody></table>\n");
        for note in &comparison.notes {
            let _ = writeln!(out, "<p class=\"note\">note: {}</p>", xml_text(note));
        }
        out.push_str("</section>\n");
    }
    checks(&mut out, report);
    trend(&mut out, history);
    let _ = writeln!(
        out,
        "<footer>traceforge {} · times in milliseconds · percentiles over time are \
         per-bucket estimates (±5%); the figures above are exact to three digits</footer>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn overview(out: &mut String, report: &Report) {
    let stat =
        |metric: Metric, a: Aggregation| report.series.get(metric).statistic(a, report.elapsed);
    let ms = |metric, a| stat(metric, a).map_or_else(|| "-".to_string(), ms_text);
    let requests = stat(Metric::HttpReqs, Aggregation::Count).unwrap_or(0.0);
    let rps = stat(Metric::HttpReqs, Aggregation::Rate).unwrap_or(0.0);
    let failed = match report.series.get(Metric::HttpReqFailed) {
        super::metrics::Aggregate::Rate { passes, total } => percent(*passes, *total),
        _ => "-".into(),
    };
    let cards = [
        ("duration", duration_text(report.elapsed)),
        ("requests", number_text(requests, Some(0))),
        ("requests/s", number_text(rps, Some(2))),
        ("failed", failed),
        ("p50", ms(Metric::HttpReqDuration, Aggregation::Med)),
        (
            "p95",
            ms(Metric::HttpReqDuration, Aggregation::Percentile(95.0)),
        ),
        (
            "p99",
            ms(Metric::HttpReqDuration, Aggregation::Percentile(99.0)),
        ),
        ("TTFT p50", ms(Metric::LlmTtft, Aggregation::Med)),
        (
            "TTFT p95",
            ms(Metric::LlmTtft, Aggregation::Percentile(95.0)),
        ),
    ];
    out.push_str("<section class=\"cards\">\n");
    for (label, value) in cards {
        let _ = writeln!(
            out,
            "<div class=\"card\"><span>{}</span><b>{}</b></div>",
            label,
            xml_text(&value)
        );
    }
    out.push_str("</section>\n<section><h2>Scenarios</h2>\n");
    if let Some(target) = &report.target {
        let _ = writeln!(out, "<p>target: <code>{}</code></p>", xml_text(target));
    }
    out.push_str("<ul>\n");
    for s in &report.scenarios {
        let dropped = if s.dropped > 0 {
            format!(", {} dropped", s.dropped)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "<li><b>{}</b>: {} ({}), {} iterations{}</li>",
            xml_text(&s.name),
            xml_text(&s.description),
            xml_text(&s.executor),
            s.iterations,
            xml_text(&dropped)
        );
    }
    out.push_str("</ul>\n");
    if let Some(reason) = &report.aborted {
        let _ = writeln!(out, "<p class=\"fail\">✗ aborted: {}</p>", xml_text(reason));
    }
    out.push_str("</section>\n");
}

fn charts(out: &mut String, report: &Report) {
    let timeline = &report.series.timeline;
    let width = timeline.width().as_secs_f64();
    let elapsed = report.elapsed.as_secs_f64();
    let buckets = timeline.buckets();
    // Where a bucket sits on the time axis, and how long it really lasted (the last one ends
    // with the run).
    let span = |i: usize| {
        let start = i as f64 * width;
        let end = (start + width).min(elapsed.max(start + 1e-3));
        ((start + end) / 2.0, end - start)
    };
    let per_second = |f: fn(&Bucket) -> u64| {
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let (x, len) = span(i);
                (x, f(b) as f64 / len.max(1e-3))
            })
            .collect::<Vec<_>>()
    };
    let percentiles = |sketch: fn(&Bucket) -> &super::metrics::Sketch, ps: &[f64]| {
        ps.iter()
            .map(|p| Line {
                name: format!("p{}", number_text(*p, None)),
                points: buckets
                    .iter()
                    .enumerate()
                    .filter_map(|(i, b)| Some((span(i).0, sketch(b).percentile_ms(*p)?)))
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    let resolution = format!("one point per {}", duration_text(timeline.width()));
    out.push_str("<section><h2>Over time</h2>\n");
    let _ = writeln!(out, "<p class=\"note\">{}</p>", xml_text(&resolution));
    chart(
        out,
        "rate",
        "Request rate (requests/s)",
        "s",
        &[Line {
            name: "requests/s".into(),
            points: per_second(|b| b.requests),
        }],
        TrendUnit::PerSecond,
    );
    chart(
        out,
        "latency",
        "http_req_duration percentiles",
        "s",
        &percentiles(|b| &b.duration, &[50.0, 90.0, 95.0, 99.0]),
        TrendUnit::Milliseconds,
    );
    if buckets.iter().any(|b| b.ttft.count() > 0) {
        chart(
            out,
            "ttft",
            "llm_ttft (time to first token) percentiles",
            "s",
            &percentiles(|b| &b.ttft, &[50.0, 95.0, 99.0]),
            TrendUnit::Milliseconds,
        );
    }
    chart(
        out,
        "failures",
        "Failures (failed requests/s)",
        "s",
        &[Line {
            name: "failed/s".into(),
            points: per_second(|b| b.failures),
        }],
        TrendUnit::PerSecond,
    );
    out.push_str("</section>\n");
}

/// One SVG line chart with axes, a legend and a `<title>` per line.
fn chart(out: &mut String, id: &str, title: &str, x_unit: &str, lines: &[Line], unit: TrendUnit) {
    let _ = writeln!(out, "<figure><figcaption>{}</figcaption>", xml_text(title));
    let points = lines.iter().map(|l| l.points.len()).sum::<usize>();
    if points == 0 {
        out.push_str("<p class=\"note\">no samples</p></figure>\n");
        return;
    }
    let all = lines.iter().flat_map(|l| &l.points);
    let (x_min, x_max, y_max) = all.fold(
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64),
        |(a, b, c), (x, y)| (a.min(*x), b.max(*x), c.max(*y)),
    );
    let y_max = nice_ceiling(y_max);
    let (x_min, x_max) = if x_max > x_min {
        (x_min, x_max)
    } else {
        (x_min - 0.5, x_max + 0.5)
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * plot_w;
    let sy = |y: f64| TOP + plot_h - y / y_max * plot_h;
    let _ = writeln!(
        out,
        "<svg class=\"chart\" id=\"chart-{id}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{}\" data-x-min=\"{x_min:.3}\" data-x-max=\"{x_max:.3}\" \
         data-y-max=\"{y_max}\">",
        xml(title)
    );
    // Grid and axis labels: 0, half and the top; start, middle and end.
    for k in 0..=4 {
        let y = y_max * f64::from(k) / 4.0;
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            sy(y),
            sy(y),
            LEFT - 6.0,
            sy(y) + 4.0,
            xml_text(&unit.text(y))
        );
    }
    for k in 0..=4 {
        let x = x_min + (x_max - x_min) * f64::from(k) / 4.0;
        let _ = writeln!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}{}</text>",
            sx(x),
            HEIGHT - 10.0,
            number_text(x, Some(1)),
            x_unit
        );
    }
    for (i, line) in lines.iter().enumerate() {
        if line.points.is_empty() {
            continue;
        }
        let colour = COLOURS[i % COLOURS.len()];
        let mut coords = String::with_capacity(line.points.len() * 14);
        for (x, y) in &line.points {
            let _ = write!(coords, "{:.1},{:.1} ", sx(*x), sy(*y));
        }
        let _ = writeln!(
            out,
            "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"1.6\" points=\"{}\"><title>{}</title></polyline>",
            xml(&line.name),
            coords.trim_end(),
            xml_text(&line.name)
        );
        if line.points.len() == 1 {
            let (x, y) = line.points[0];
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                sx(x),
                sy(y)
            );
        }
    }
    out.push_str("</svg>\n<p class=\"legend\">");
    for (i, line) in lines.iter().enumerate() {
        let _ = write!(
            out,
            "<span style=\"color:{}\">■</span> {} ",
            COLOURS[i % COLOURS.len()],
            xml_text(&line.name)
        );
    }
    out.push_str("</p></figure>\n");
}

/// 1, 2 or 5 times a power of ten, at least `v` (and above zero).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * magnitude >= v {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn thresholds(out: &mut String, report: &Report) {
    if report.thresholds.is_empty() {
        return;
    }
    let failed = report.thresholds_failed();
    let _ = writeln!(
        out,
        "<section><h2>Thresholds</h2><p class=\"{}\">{}</p>",
        if failed == 0 { "pass" } else { "fail" },
        if failed == 0 {
            format!("✓ all {} thresholds passed", report.thresholds.len())
        } else {
            format!(
                "✗ {failed} of {} thresholds failed",
                report.thresholds.len()
            )
        }
    );
    out.push_str(
        "<table><thead><tr><th></th><th>metric</th><th>threshold</th><th>observed</th></tr>\
         </thead><tbody>\n",
    );
    for t in &report.thresholds {
        let observed = match t.observed {
            Some(v) => format!(
                "{}={}",
                t.aggregation.label(),
                value_text(t.selector.metric, t.aggregation, v)
            ),
            None => "no samples (the metric was never recorded)".into(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if t.ok { "pass" } else { "fail" },
            mark(t.ok),
            xml_text(&t.selector.to_string()),
            xml_text(&t.source),
            xml_text(&observed)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn checks(out: &mut String, report: &Report) {
    let stats = trend_columns(report);
    out.push_str("<section><h2>Metrics</h2><table><thead><tr><th>metric</th>");
    for s in &stats {
        let _ = write!(out, "<th>{}</th>", xml_text(&s.label()));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (name, aggregate) in report.series_names.iter().zip(&report.series.aggregates) {
        let super::metrics::Aggregate::Trend(trend) = aggregate else {
            continue;
        };
        if trend.count() == 0 {
            continue;
        }
        let _ = write!(out, "<tr><td>{}</td>", xml_text(name));
        for s in &stats {
            let _ = write!(
                out,
                "<td>{}</td>",
                trend.stat_ms(*s).map_or_else(|| "-".into(), ms_text)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
    if !report.checks.is_empty() {
        out.push_str(
            "<section><h2>Checks</h2><table><thead><tr><th></th><th>scenario</th><th>check</th>\
             <th>passed</th><th>✓</th><th>✗</th></tr></thead><tbody>\n",
        );
        for (id, (scenario, check)) in report.checks.iter().enumerate() {
            let (passes, fails) = report.series.checks.get(id).copied().unwrap_or((0, 0));
            let ok = fails == 0 && passes > 0;
            let _ = writeln!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{passes}</td>\
                 <td>{fails}</td></tr>",
                if ok { "pass" } else { "fail" },
                mark(ok),
                xml_text(scenario),
                xml_text(check),
                percent(passes, passes + fails)
            );
        }
        out.push_str("</tbody></table></section>\n");
    }
    if !report.series.errors.is_empty() {
        out.push_str("<section><h2>Errors</h2><ul>\n");
        for (message, n) in &report.series.errors {
            let _ = writeln!(out, "<li>{n} × {}</li>", xml_text(message));
        }
        out.push_str("</ul></section>\n");
    }
}

fn trend(out: &mut String, history: &[LoadRun]) {
    out.push_str("<section><h2>History</h2>\n");
    if history.len() < 2 {
        out.push_str(
            "<p class=\"note\">The trend appears from the second recorded run of this \
             scenario (<code>traceforge load history</code>).</p></section>\n",
        );
        return;
    }
    let first = &history[0].started_at;
    let last = &history[history.len() - 1].started_at;
    let _ = writeln!(
        out,
        "<p class=\"note\">{} runs, {} to {}; x is the run number</p>",
        history.len(),
        xml_text(first),
        xml_text(last)
    );
    out.push_str("<div class=\"trends\">\n");
    for metric in TREND_METRICS {
        let points: Vec<(f64, f64)> = history
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some(((i + 1) as f64, (metric.value)(r)?)))
            .collect();
        if points.is_empty() {
            continue;
        }
        chart(
            out,
            &format!("history-{}", metric.name),
            &format!("{} per run", metric.label),
            "",
            &[Line {
                name: metric.label.to_string(),
                points,
            }],
            metric.unit,
        );
    }
    out.push_str("</div></section>\n");
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:820px;padding:16px;color:#111;background:#fff}
h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;padding-bottom:8px}
.verdict{font-weight:bold;padding:2px 10px;border-radius:10px;margin:0}
.verdict.pass{background:#dcfce7;color:#166534}.verdict.fail{background:#fee2e2;color:#991b1b}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:8px;margin-top:12px}
.card{border:1px solid #e5e7eb;border-radius:6px;padding:6px 8px}.card span{display:block;color:#666;font-size:12px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eee}
tr.fail td:first-child,p.fail{color:#b91c1c}tr.pass td:first-child,p.pass{color:#15803d}
figure{margin:12px 0}figcaption{font-weight:600}svg.chart{width:100%;height:auto}
.grid{stroke:#e5e7eb}.axis{font-size:11px;fill:#555}.note{color:#666;font-size:12px}
.legend{margin:2px 0;font-size:12px}.readout{font-size:12px;color:#333;min-height:1em}
footer{margin-top:24px;color:#888;font-size:12px}
";

/// Counts each chart's drawn points into `data-rendered` and shows the nearest value under the
/// pointer. No network, no user data: it reads only the SVG it sits beside.
const SCRIPT: &str = r#"
(function(){
  var charts=document.querySelectorAll('svg.chart');
  var total=0;
  charts.forEach(function(svg){
    var n=0;
    svg.querySelectorAll('polyline').forEach(function(line){
      var k=line.points?line.points.numberOfItems:line.getAttribute('points').trim().split(/\s+/).length;
      line.setAttribute('data-rendered',String(k));
      n+=k;
    });
    svg.setAttribute('data-rendered',String(n));
    total+=n;
    var out=document.createElement('div');
    out.className='readout';
    svg.parentNode.insertBefore(out,svg.nextSibling);
    svg.addEventListener('mousemove',function(e){
      var box=svg.getBoundingClientRect();
      var x=(e.clientX-box.left)/box.width*760;
      var best=null;
      svg.querySelectorAll('polyline').forEach(function(line){
        var pts=line.getAttribute('points').trim().split(/\s+/);
        pts.forEach(function(p){
          var xy=p.split(',');var d=Math.abs(+xy[0]-x);
          if(best===null||d<best.d){best={d:d,y:+xy[1],name:line.getAttribute('data-series'),px:+xy[0]};}
        });
      });
      if(best){
        var ymax=+svg.getAttribute('data-y-max');
        var xmin=+svg.getAttribute('data-x-min'),xmax=+svg.getAttribute('data-x-max');
        var value=(14+176-best.y)/176*ymax;
        var at=xmin+(best.px-64)/680*(xmax-xmin);
        out.textContent=best.name+' at '+at.toFixed(1)+': '+value.toFixed(2);
      }
    });
  });
  document.body.setAttribute('data-rendered-charts',String(charts.length));
  document.body.setAttribute('data-rendered-points',String(total));
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(0.03), 0.05);
    }
}
