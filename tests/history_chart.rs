//! The wrap-up's 14-day chart from a home's store: 14 days of runs recorded through the
//! store's own API, then `dayshift run wrapup` writes the SVG next to the report and the
//! report links it and spells the days as sparklines.

mod common;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use common::TestHome;
use dayshift::home::Home;
use dayshift::store::{Event, Store, Usage, UsageRecord};
use dayshift::tasks::TaskId;

const LAST: &str = "2026-11-20";

/// Fourteen days ending with LAST: (merged, failed, USD spent); the zero days are gaps.
const DAYS: [(u32, u32, f64); 14] = [
    (2, 0, 1.2),
    (0, 0, 0.0),
    (3, 1, 2.5),
    (5, 0, 3.1),
    (1, 2, 4.9),
    (0, 0, 0.0),
    (0, 0, 0.0),
    (4, 1, 2.0),
    (6, 0, 5.0),
    (2, 0, 1.1),
    (0, 3, 3.3),
    (3, 0, 2.2),
    (1, 1, 0.4),
    (4, 0, 3.0),
];

fn record_history(home: &TestHome) {
    let paths = Home::open(home.root.clone()).expect("the home");
    let mut store = Store::open(&paths.db_path()).expect("open the store");
    let audit = paths.audit_log();
    let last: NaiveDate = LAST.parse().unwrap();
    let mut task = 0;
    for (i, &(merged, failed, usd)) in DAYS.iter().enumerate() {
        let day = last - Days::new(13 - i as u64);
        let at = Utc
            .from_utc_datetime(&day.and_hms_opt(14, 0, 0).unwrap())
            .fixed_offset();
        let moves = std::iter::repeat_n("completed", merged as usize)
            .chain(std::iter::repeat_n("failed", failed as usize));
        for to in moves {
            task += 1;
            let event = Event::new(at, "dayshift", "task.moved")
                .task(TaskId::new(task))
                .detail(serde_json::json!({"from": "in_review", "to": to, "why": "test"}));
            let line = serde_json::to_string(&event).unwrap();
            store
                .record_event(&audit, &event, day, &line)
                .expect("record");
        }
        if usd > 0.0 {
            let record = UsageRecord {
                at,
                day,
                agent: "coder",
                job: Some("work"),
                task_id: None,
                provider: "anthropic",
                model: "m",
                usage: Usage {
                    input_tokens: (usd * 100_000.0) as u64,
                    ..Usage::default()
                },
                cost_usd: usd,
            };
            store.budget_settle(None, &record, None).expect("usage");
        }
    }
}

#[test]
fn wrapup_writes_the_14_day_chart_next_to_the_report_and_links_it() {
    let home = TestHome::new();
    let agents = home.root.join("config/agents.yaml");
    let mut text = std::fs::read_to_string(&agents).unwrap();
    text.push_str("budget: {daily_usd: 4.5}\n");
    std::fs::write(&agents, text).unwrap();
    record_history(&home);

    home.ok(&["run", "wrapup", "--date", LAST]);

    let daily = home.root.join("reports/daily");
    let svg = std::fs::read_to_string(daily.join(format!("{LAST}.svg"))).expect("the chart");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for label in ["11-07", "11-13", "11-20", "daily cap $4.50"] {
        assert_eq!(
            svg.lines().filter(|l| l.trim() == label).count(),
            1,
            "{label}"
        );
    }
    let report = std::fs::read_to_string(daily.join(format!("{LAST}.md"))).unwrap();
    let link =
        format!("![The last 14 days: tasks merged and failed, spend against the cap]({LAST}.svg)");
    let at = report.find(&link).expect("the report links the chart");
    assert!(
        at < report.find("## Planned").unwrap(),
        "near the top:\n{report}"
    );
    assert!(
        report.contains(&format!(
            "14 days to {LAST}: Merged ▄▁▅▇▃▁▁▆█▄▁▅▃▆ · Failed ▁▁▄▁▆▁▁▄▁▁█▁▄▁ · Spend ▃▁▅▆█▁▁▄█▃▆▅▂▆."
        )),
        "{report}"
    );
    // to look at it: DAYSHIFT_KEEP_CHART=/some/dir, then `rsvg-convert -z 2 chart.svg -o chart.png`
    if let Ok(dir) = std::env::var("DAYSHIFT_KEEP_CHART") {
        std::fs::copy(
            daily.join(format!("{LAST}.svg")),
            format!("{dir}/chart.svg"),
        )
        .unwrap();
    }
}

#[test]
fn a_chart_that_cannot_be_written_leaves_the_wrapup_and_its_sparklines_standing() {
    let home = TestHome::new();
    record_history(&home);
    // a folder where the chart goes: the rename over it fails
    let blocked = home.root.join(format!("reports/daily/{LAST}.svg"));
    std::fs::create_dir_all(blocked.join("in-the-way")).unwrap();

    let out = home.ok(&["run", "wrapup", "--date", LAST]);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the 14-day chart was not written"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(home.root.join(format!("reports/daily/{LAST}.md")))
        .expect("the report");
    assert!(!report.contains(&format!("]({LAST}.svg)")), "{report}");
    assert!(
        report.contains(&format!("14 days to {LAST}: Merged ▄▁▅")),
        "{report}"
    );
    assert!(
        blocked.join("in-the-way").is_dir(),
        "the folder is left alone"
    );
}
