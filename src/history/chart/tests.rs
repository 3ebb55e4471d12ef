//! Tests of the SVG chart: well-formed, a label per day, a bar per non-zero count.

use chrono::{Days, NaiveDate};

use super::*;

fn history(counts: &[(u32, u32, f64)]) -> Vec<DayTally> {
    let first = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    counts
        .iter()
        .enumerate()
        .map(|(i, &(merged, failed, usd))| DayTally {
            day: first + Days::new(i as u64),
            merged,
            failed,
            spent_usd: usd,
            spent_tokens: (usd * 100_000.0) as u64,
        })
        .collect()
}

/// Fourteen days with gaps (days 1, 6 and 11 are all zeros), merged and failed days.
fn fourteen() -> Vec<DayTally> {
    let counts: Vec<(u32, u32, f64)> = (0..14u32)
        .map(|i| match i % 5 {
            1 => (0, 0, 0.0),
            _ => ((i * 3) % 7, i % 3, f64::from(i) * 0.4),
        })
        .collect();
    history(&counts)
}

fn rects_filled(svg: &str, colour: RGBColor) -> usize {
    let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", colour.0, colour.1, colour.2);
    svg.lines()
        .filter(|l| l.trim_start().starts_with("<rect") && l.contains(&fill))
        .count()
}

/// How many text elements read exactly `text` (the backend puts each on its own line).
fn texts(svg: &str, text: &str) -> usize {
    svg.lines().filter(|l| l.trim() == text).count()
}

#[test]
fn fourteen_days_have_fourteen_labels_and_a_bar_per_nonzero_count() {
    let days = fourteen();
    let svg = svg(&days, Cap::Usd(4.5)).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
    assert!(svg.trim_end().ends_with("</svg>"));
    for d in &days {
        let label = d.day.format("%m-%d").to_string();
        assert_eq!(texts(&svg, &label), 1, "{label}");
    }
    let merged_days = days.iter().filter(|d| d.merged > 0).count();
    let failed_days = days.iter().filter(|d| d.failed > 0).count();
    // one more of each colour: the legend's key
    assert_eq!(rects_filled(&svg, MERGED), merged_days + 1);
    assert_eq!(rects_filled(&svg, FAILED), failed_days + 1);
    assert!(svg.contains("daily cap $4.50"));
    assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() > 2);
}

#[test]
fn an_all_zero_history_and_a_single_day_render() {
    let zeros = history(&[(0, 0, 0.0); 14]);
    let svg_zero = svg(&zeros, Cap::None).unwrap();
    assert!(svg_zero.starts_with("<svg"));
    assert_eq!(rects_filled(&svg_zero, MERGED), 1, "only the legend key");
    assert!(!svg_zero.contains("daily cap"), "no cap, no key for one");
    assert!(!svg_zero.contains("NaN") && !svg_zero.contains("inf"));

    let one = history(&[(2, 1, 0.5)]);
    let svg_one = svg(&one, Cap::Tokens(200_000)).unwrap();
    assert_eq!(texts(&svg_one, "11-20"), 1);
    assert_eq!(rects_filled(&svg_one, MERGED), 2);
    assert!(texts(&svg_one, "The last day") == 1);
    assert!(svg_one.contains("daily cap 200k tokens"));
}
