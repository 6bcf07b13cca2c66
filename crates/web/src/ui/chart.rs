//! Charts for the console, drawn on the server by `plotters` as SVG (the page needs no
//! script): two figures side by side per group, with axes and their values, every
//! group's full name, and each bar's value written on it. Days run left to right as
//! columns; named groups (partners, countries, sources) are rows, so that long names are
//! read whole beside their bars.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One figure: its name and colour, and its value per group.
pub(crate) struct Series<'a> {
    pub colour: RGBColor,
    pub values: &'a [f64],
}

/// How the groups are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Groups along the bottom (days, oldest first).
    Columns,
    /// Groups down the side (named groups).
    Rows,
}

/// The colour of a figure by its CSS name (the legend's swatches use the same).
pub(crate) fn colour(class: &str) -> RGBColor {
    match class {
        "received" => RGBColor(0x98, 0xa2, 0xb3),
        "delivered" => RGBColor(0x29, 0x52, 0xcc),
        "p50" => RGBColor(0x7e, 0xa6, 0xf0),
        "p95" => RGBColor(0xb5, 0x47, 0x08),
        "revenue" => RGBColor(0x06, 0x76, 0x47),
        _ => RGBColor(0x75, 0xe0, 0xa7),
    }
}

const TEXT: RGBColor = RGBColor(0x47, 0x54, 0x67);
const FONT: &str = "sans-serif";
/// The widest a chart is drawn (the page's content width).
const MAX_WIDTH: u32 = 1150;

/// Draws the chart; `value` writes a figure (on the bars and the value axis).
pub(crate) fn draw(
    layout: Layout,
    labels: &[String],
    a: &Series,
    b: &Series,
    value: &dyn Fn(f64) -> String,
) -> String {
    let n = labels.len().max(1);
    // A whole-number top with room for the values written above the bars, so that the
    // axis' values are whole numbers too.
    let top = (a.values.iter().chain(b.values).copied().fold(0.0, f64::max) * 1.15)
        .ceil()
        .max(1.0);
    let ticks = (top as usize + 1).min(6);
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as u32;
    let mut svg = String::new();
    {
        let (width, height) = match layout {
            Layout::Columns => (((n as u32) * 56 + 90).clamp(420, MAX_WIDTH), 260),
            Layout::Rows => (MAX_WIDTH, (n as u32) * 44 + 60),
        };
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let label_style = (FONT, 13).into_font().color(&TEXT);
        let ok = match layout {
            Layout::Columns => columns(
                &root,
                labels,
                [a, b],
                (top, ticks),
                value,
                &label_style,
                width,
            ),
            Layout::Rows => rows(
                &root,
                labels,
                [a, b],
                (top, ticks),
                value,
                &label_style,
                longest,
            ),
        };
        if let Err(e) = ok.and_then(|_| root.present().map_err(|e| e.to_string())) {
            tracing::warn!(error = %e, "drawing a chart failed");
        }
    }
    svg
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The name of the group a label stands under.
fn name_of(labels: &[String], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(i) if *i >= 0 => {
            labels.get(*i as usize).cloned().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// The segments of `n` groups, one each (a lone group in the middle of three, so that it
/// is not a page wide).
fn groups(n: i32) -> std::ops::Range<i32> {
    if n == 1 {
        -1..1
    } else {
        0..n - 1
    }
}

/// Group `i`'s two halves: the first figure's and the second's.
fn halves(i: i32) -> [(SegmentValue<i32>, SegmentValue<i32>); 2] {
    [
        (SegmentValue::Exact(i), SegmentValue::CenterOf(i)),
        (SegmentValue::CenterOf(i), SegmentValue::Exact(i + 1)),
    ]
}

fn small(h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, 11).into_font().color(&TEXT).pos(Pos::new(h, v))
}

fn columns(
    root: &Area,
    labels: &[String],
    series: [&Series; 2],
    (top, ticks): (f64, usize),
    value: &dyn Fn(f64) -> String,
    style: &TextStyle,
    width: u32,
) -> Result<(), String> {
    let n = labels.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(groups(n).into_segmented(), 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0xe4, 0xe7, 0xec))
        .axis_style(RGBColor(0x98, 0xa2, 0xb3))
        // Every day's name when they fit, else every few.
        .x_labels(labels.len().min(16))
        .x_label_formatter(&|v| name_of(labels, v))
        .y_labels(ticks)
        .y_label_formatter(&|v| value(*v))
        .label_style(style.clone())
        .draw()
        .map_err(|e| e.to_string())?;
    // A quarter of a group's width: the middle of each half, from the group's middle.
    let segments = if n == 1 { 3 } else { n };
    let quarter = ((width as i32 - 24 - 64) / segments / 4).max(1);
    let on_bars = labels.len() <= 31;
    for (k, s) in series.into_iter().enumerate() {
        chart
            .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                let (from, to) = halves(i as i32)[k].clone();
                let mut r = Rectangle::new([(from, 0.0), (to, *v)], s.colour.filled());
                if k == 0 {
                    r.set_margin(0, 0, 4, 1);
                } else {
                    r.set_margin(0, 0, 1, 4);
                }
                r
            }))
            .map_err(|e| e.to_string())?;
        if on_bars {
            let dx = if k == 0 { -quarter } else { quarter };
            chart
                .draw_series(s.values.iter().enumerate().filter(|(_, v)| **v > 0.0).map(
                    |(i, v)| {
                        EmptyElement::at((SegmentValue::CenterOf(i as i32), *v))
                            + Text::new(value(*v), (dx, -2), small(HPos::Center, VPos::Bottom))
                    },
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn rows(
    root: &Area,
    labels: &[String],
    series: [&Series; 2],
    (top, ticks): (f64, usize),
    value: &dyn Fn(f64) -> String,
    style: &TextStyle,
    longest: u32,
) -> Result<(), String> {
    let n = labels.len() as i32;
    // The first group on top: group i is drawn in segment n-1-i.
    let at = |i: usize| n - 1 - i as i32;
    // Room for the longest name (about 7 px a character at 13 px), within reason.
    let names = (longest * 7 + 16).clamp(80, 320);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .margin_right(56)
        .x_label_area_size(28)
        .y_label_area_size(names)
        .build_cartesian_2d(0f64..top, groups(n).into_segmented())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0xe4, 0xe7, 0xec))
        .axis_style(RGBColor(0x98, 0xa2, 0xb3))
        .y_labels(labels.len())
        .y_label_formatter(&|v| {
            let name = match v {
                SegmentValue::CenterOf(s) if (0..n).contains(s) => labels
                    .get((n - 1 - s) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let fits = (names as usize - 16) / 7;
            if name.chars().count() > fits {
                let cut: String = name.chars().take(fits.saturating_sub(1)).collect();
                format!("{cut}…")
            } else {
                name
            }
        })
        .x_labels(ticks)
        .x_label_formatter(&|v| value(*v))
        .label_style(style.clone())
        .draw()
        .map_err(|e| e.to_string())?;
    // The first figure in the upper half of its group, the second in the lower.
    for (k, s) in series.into_iter().enumerate() {
        chart
            .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                let (from, to) = halves(at(i))[1 - k].clone();
                let mut r = Rectangle::new([(0.0, from), (*v, to)], s.colour.filled());
                if k == 0 {
                    r.set_margin(1, 5, 0, 0);
                } else {
                    r.set_margin(5, 1, 0, 0);
                }
                r
            }))
            .map_err(|e| e.to_string())?;
        let dy = if k == 0 { -12 } else { 10 };
        chart
            .draw_series(s.values.iter().enumerate().map(|(i, v)| {
                EmptyElement::at((*v, SegmentValue::CenterOf(at(i))))
                    + Text::new(value(*v), (5, dy), small(HPos::Left, VPos::Center))
            }))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| t.trim_end_matches("</text").trim().to_string())
            .collect()
    }

    #[test]
    fn groups_have_their_whole_names_values_and_whole_number_axes() {
        for layout in [Layout::Columns, Layout::Rows] {
            for n in [1usize, 2, 7, 30] {
                let labels: Vec<String> =
                    (0..n).map(|i| format!("Partner number {i} GmbH")).collect();
                let a: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
                let b: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
                let svg = draw(
                    layout,
                    &labels,
                    &Series {
                        colour: colour("received"),
                        values: &a,
                    },
                    &Series {
                        colour: colour("delivered"),
                        values: &b,
                    },
                    &|v| format!("{v:.0}"),
                );
                let t = texts(&svg);
                assert!(
                    svg.starts_with("<svg") && !svg.contains("style="),
                    "no inline style (CSP)"
                );
                if layout == Layout::Rows || n <= 16 {
                    for l in &labels {
                        assert!(t.contains(l), "{l} named in {t:?}");
                    }
                }
                // The value axis: whole numbers, each once.
                let mut axis: Vec<&String> =
                    t.iter().filter(|s| s.parse::<u32>().is_ok()).collect();
                axis.dedup();
                assert!(!axis.is_empty(), "{t:?}");
            }
        }
    }
}
