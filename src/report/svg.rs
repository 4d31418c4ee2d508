//! The report's charts, drawn as inline SVG: stacked bars over time, horizontal bars, a
//! week-by-hour heatmap and a line. Written out here rather than with a plotting crate:
//! `plotters` needs a font library (`ttf`, which builds FreeType and font-kit) or a font file
//! (`ab_glyph`) to place any text, where SVG text is laid out by the browser for free; these
//! four shapes are a few rectangles and a path each.
//!
//! Every chart scales to its container (`viewBox`, no fixed size), colours come from the page's
//! CSS classes (so print and dark mode can restyle them), and every mark has a `<title>` with
//! its value for the reader who points at it.

use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

/// One stacked part of a bar chart: its legend name, CSS class and a value per label.
pub struct Series<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub values: Vec<f64>,
}

/// Text for SVG and HTML: the five characters that matter escaped.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// A number as a label: whole numbers without a fraction, others with one decimal.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.1}")
    }
}

/// The smallest "nice" value (1, 2 or 5 times a power of ten) at or above `max`.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|candidate| *candidate >= max)
        .unwrap_or(10.0 * power)
}

fn open(height: f64, label: &str) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">"#,
        escape(label)
    )
}

/// The y axis: gridlines at 0, half and the top, labelled.
fn y_axis(svg: &mut String, top_value: f64, plot_height: f64) {
    for fraction in [0.0, 0.5, 1.0] {
        let y = TOP + plot_height * (1.0 - fraction);
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{WIDTH}" y2="{y:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            y + 4.0,
            number(top_value * fraction)
        );
    }
}

/// Bars over time, one per label, its series stacked; the x labels thinned to fit.
pub fn stacked_bars(title: &str, labels: &[String], series: &[Series]) -> String {
    let totals: Vec<f64> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let top_value = nice_ceiling(totals.iter().copied().fold(0.0, f64::max));
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / labels.len().max(1) as f64;
    let mut svg = open(HEIGHT, title);
    y_axis(&mut svg, top_value, plot_height);
    let every = label_step(labels, slot);
    for (i, label) in labels.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let mut base = TOP + plot_height;
        for s in series {
            let value = s.values.get(i).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let h = plot_height * value / top_value;
            base -= h;
            let _ = write!(
                svg,
                r#"<rect class="{}" x="{:.1}" y="{base:.1}" width="{:.1}" height="{h:.1}"><title>{} {}: {}</title></rect>"#,
                s.class,
                x + slot * 0.1,
                slot * 0.8,
                escape(label),
                s.name,
                number(value)
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + slot / 2.0,
                HEIGHT - 8.0,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One horizontal bar per row (a name and its value), longest first as given.
pub fn horizontal_bars(title: &str, rows: &[(String, f64)], unit: &str) -> String {
    let row_height = 26.0;
    let height = TOP + row_height * rows.len().max(1) as f64;
    let max = rows.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1e-9);
    let label_width = 200.0;
    let bar_space = WIDTH - label_width - 90.0;
    let mut svg = open(height, title);
    for (i, (name, value)) in rows.iter().enumerate() {
        let y = TOP + row_height * i as f64;
        let w = (bar_space * value / max).max(1.0);
        let _ = write!(
            svg,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" x="{label_width}" y="{:.1}" width="{w:.1}" height="{:.1}"><title>{}: {} {unit}</title></rect><text class="value" x="{:.1}" y="{:.1}">{} {unit}</text>"#,
            label_width - 6.0,
            y + 17.0,
            escape(&shorten(name, 28)),
            y + 4.0,
            row_height - 8.0,
            escape(name),
            number(*value),
            label_width + w + 6.0,
            y + 17.0,
            number(*value)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Seven rows (Monday to Sunday) of 24 hours; the darker, the more.
pub fn heatmap(title: &str, cells: &[[f64; 24]; 7]) -> String {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let cell = (WIDTH - LEFT) / 24.0;
    let row = 22.0;
    let height = TOP + row * 7.0 + BOTTOM;
    let max = cells.iter().flatten().copied().fold(0.0, f64::max);
    let mut svg = open(height, title);
    for (d, hours) in cells.iter().enumerate() {
        let y = TOP + row * d as f64;
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            y + 15.0,
            days[d]
        );
        for (h, value) in hours.iter().enumerate() {
            // Five shades, so that print and colour-blind readers can tell them apart.
            let level = if max > 0.0 && *value > 0.0 {
                1 + ((value / max) * 4.0).floor().min(3.0) as u8
            } else {
                0
            };
            let _ = write!(
                svg,
                r#"<rect class="heat{level}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{} {h:02}:00: {}</title></rect>"#,
                LEFT + cell * h as f64 + 1.0,
                cell - 2.0,
                row - 2.0,
                days[d],
                number(*value)
            );
        }
    }
    for h in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{h:02}</text>"#,
            LEFT + cell * (h as f64 + 0.5),
            height - 8.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line through the points in order (labels on the x axis, thinned).
pub fn line(title: &str, points: &[(String, f64)]) -> String {
    let plot_height = HEIGHT - TOP - BOTTOM;
    let low = points.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let high = points
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    let top_value = nice_ceiling(high.max(0.0));
    let bottom_value = if low < 0.0 { -nice_ceiling(-low) } else { 0.0 };
    let span = (top_value - bottom_value).max(1e-9);
    let step = (WIDTH - LEFT) / points.len().saturating_sub(1).max(1) as f64;
    let mut svg = open(HEIGHT, title);
    y_axis(&mut svg, top_value, plot_height);
    let mut path = String::new();
    for (i, (label, value)) in points.iter().enumerate() {
        let x = LEFT + step * i as f64;
        let y = TOP + plot_height * (1.0 - (value - bottom_value) / span);
        let _ = write!(path, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
        let _ = write!(
            svg,
            r#"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="3"><title>{}: {}</title></circle>"#,
            escape(label),
            number(*value)
        );
    }
    let _ = write!(svg, r#"<path class="line" d="{path}"/>"#);
    let every = (points.len() / 6).max(1);
    for (i, (label, _)) in points.iter().enumerate().step_by(every) {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + step * i as f64,
            HEIGHT - 8.0,
            escape(label.get(..10).unwrap_or(label))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Every how many x labels one is written, so that they do not overlap (an 11px label is
/// about 6.5px a character wide).
fn label_step(labels: &[String], slot: f64) -> usize {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let needed = longest * 6.5 + 10.0;
    ((needed / slot.max(1.0)).ceil() as usize).max(1)
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_up_to_nice_values() {
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(13.0), 20.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(450.0), 500.0);
    }

    #[test]
    fn names_in_charts_are_escaped() {
        let svg = horizontal_bars("t", &[("Lager <Halle 2> & \"Co\"".into(), 3.0)], "min");
        assert!(svg.contains("Lager &lt;Halle 2&gt; &amp;"), "{svg}");
        assert!(!svg.contains("<Halle"));
    }

    #[test]
    fn empty_data_draws_an_empty_chart_without_dividing_by_zero() {
        for svg in [
            stacked_bars("t", &[], &[]),
            horizontal_bars("t", &[], "min"),
            line("t", &[]),
            heatmap("t", &[[0.0; 24]; 7]),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }
}
