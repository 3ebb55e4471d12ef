//! The history as a small SVG chart (plotters, SVG backend only: no font library, the
//! viewer draws the text): bars of tasks merged and failed per day on the left axis, the
//! day's spend as a line on the right axis with the cap as a dashed line, a legend above.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Cap, DayTally};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 240;

/// GitHub's green and red, a blue for spend, an orange for the cap: told apart in print
/// and by most colour-blind readers (the bars also differ in place: merged left, failed right).
pub const MERGED: RGBColor = RGBColor(0x2E, 0xA0, 0x43);
pub const FAILED: RGBColor = RGBColor(0xCF, 0x22, 0x2E);
pub const SPEND: RGBColor = RGBColor(0x09, 0x69, 0xDA);
pub const CAP: RGBColor = RGBColor(0xBC, 0x4C, 0x00);
const INK: RGBColor = RGBColor(0x40, 0x40, 0x40);

const FONT: &str = "sans-serif";
/// Share of a day's width one bar takes (two bars side by side, a gap between days).
const BAR: f64 = 0.36;

#[derive(Debug, thiserror::Error)]
#[error("plotters could not draw it: {0}")]
pub struct ChartError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// The chart of `days` (oldest first) as an SVG document, spend measured in `cap`'s unit.
pub fn svg(days: &[DayTally], cap: Cap) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(24);
        legend(&header, days.len(), cap)?;
        plot(&body, days, cap)?;
        root.present()?;
    }
    Ok(out)
}

fn plot(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    days: &[DayTally],
    cap: Cap,
) -> Result<(), ChartError> {
    // fewer days than a week sit in the middle of a week's width, not one fat bar
    let pad = (7.0 - days.len() as f64).max(0.0) / 2.0;
    let span = (-0.5 - pad)..(days.len() as f64 - 0.5 + pad);
    let most_tasks = days
        .iter()
        .map(|d| d.merged.max(d.failed))
        .max()
        .unwrap_or(0);
    // whole tasks: headroom of one above the tallest bar, at least 0..4
    let tasks_top = f64::from(most_tasks.max(3) + 1);
    let spend_top = days
        .iter()
        .map(|d| cap.spent(d))
        .chain(cap.limit())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let spend_top = if spend_top > 0.0 {
        spend_top * 1.1
    } else {
        1.0
    };

    let mut chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_left(6)
        .margin_right(6)
        .margin_bottom(4)
        .x_label_area_size(20)
        .y_label_area_size(34)
        .right_y_label_area_size(52)
        .build_cartesian_2d(span.clone(), 0.0..tasks_top)?
        .set_secondary_coord(span.clone(), 0.0..spend_top);

    let day_label = |x: &f64| {
        let i = x.round();
        let day = (i >= 0.0 && (x - i).abs() < 1e-6)
            .then(|| days.get(i as usize))
            .flatten();
        day.map_or(String::new(), |d| d.day.format("%m-%d").to_string())
    };
    let whole = |y: &f64| {
        if (y - y.round()).abs() < 1e-6 {
            format!("{y:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(INK.mix(0.12))
        .axis_style(INK.mix(0.6))
        .x_labels(days.len().max(1))
        .y_labels(tasks_top as usize + 1)
        .x_label_formatter(&day_label)
        .y_label_formatter(&whole)
        .y_desc("tasks")
        .label_style((FONT, 14).into_font().color(&INK))
        .axis_desc_style((FONT, 14).into_font().color(&INK))
        .draw()?;
    let money = |y: &f64| match cap {
        Cap::Tokens(_) => tokens_short(*y),
        Cap::Usd(_) | Cap::None => format!("${y:.2}"),
    };
    chart
        .configure_secondary_axes()
        .axis_style(INK.mix(0.6))
        .y_labels(5)
        .y_label_formatter(&money)
        .label_style((FONT, 14).into_font().color(&SPEND))
        .draw()?;

    let bars = |offset: f64, count: fn(&DayTally) -> u32, colour: RGBColor| {
        days.iter()
            .enumerate()
            .filter(move |(_, d)| count(d) > 0)
            .map(move |(i, d)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, 0.0), (x + BAR, f64::from(count(d)))], colour.filled())
            })
    };
    chart.draw_series(bars(-BAR, |d| d.merged, MERGED))?;
    chart.draw_series(bars(0.0, |d| d.failed, FAILED))?;

    if let Some(limit) = cap.limit() {
        let across = vec![(span.start, limit), (span.end, limit)];
        chart.draw_secondary_series(DashedLineSeries::new(across, 6, 4, CAP.stroke_width(2)))?;
    }
    let spend = days
        .iter()
        .enumerate()
        .map(|(i, d)| (i as f64, cap.spent(d)));
    chart.draw_secondary_series(LineSeries::new(spend, SPEND.stroke_width(2)).point_size(3))?;
    Ok(())
}

/// One line above the plot: what it shows, then a key for each colour.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    days: usize,
    cap: Cap,
) -> Result<(), ChartError> {
    let style = (FONT, 16).into_font().color(&INK);
    let title = match days {
        1 => "The last day".to_string(),
        n => format!("The last {n} days"),
    };
    area.draw(&Text::new(title, (10, 6), style.clone()))?;
    let spend_text = format!("spend ({})", cap.unit());
    let cap_text = match cap {
        Cap::Usd(usd) => Some(format!("daily cap ${usd:.2}")),
        Cap::Tokens(tokens) => Some(format!("daily cap {} tokens", tokens_short(tokens as f64))),
        Cap::None => None,
    };
    let mut keys = vec![
        ("merged", MERGED, true),
        ("failed", FAILED, true),
        (spend_text.as_str(), SPEND, false),
    ];
    keys.extend(cap_text.as_deref().map(|text| (text, CAP, false)));
    let mut x = 160;
    for (text, colour, is_bar) in keys {
        let y = 12;
        if is_bar {
            area.draw(&Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                colour.filled(),
            ))?;
        } else {
            area.draw(&PathElement::new(
                vec![(x - 2, y), (x + 12, y)],
                colour.stroke_width(2),
            ))?;
        }
        area.draw(&Text::new(text.to_string(), (x + 16, y - 6), style.clone()))?;
        x += 16 + 7 * text.chars().count() as i32 + 18;
    }
    Ok(())
}

/// Tokens as people say them: 950, 12k, 1.5M.
fn tokens_short(tokens: f64) -> String {
    if tokens >= 1e6 {
        format!("{:.1}M", tokens / 1e6)
    } else if tokens >= 1e3 {
        format!("{:.0}k", tokens / 1e3)
    } else {
        format!("{tokens:.0}")
    }
}

#[cfg(test)]
mod tests;
