//! Routing events to the log file of their job.
//!
//! The job runner enters a span named after its agent with a `job` field
//! (`orchestrator{job=morning}`). [`JobTagger`] reads that field when the span is created
//! and keeps it in the span's extensions; [`OnlyJob`], the filter of each job's file layer,
//! lets an event through when a span of its job encloses it. Spans themselves always pass,
//! so each line shows its span's fields.

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::config::JobName;

/// The job a span belongs to, kept in its extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct JobTag(JobName);

/// Remembers the `job` field of every span that has one.
pub struct JobTagger;

impl<S> Layer<S> for JobTagger
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut found = FindJob(None);
        attrs.record(&mut found);
        if let (Some(job), Some(span)) = (found.0, ctx.span(id)) {
            span.extensions_mut().replace(JobTag(job));
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let mut found = FindJob(None);
        values.record(&mut found);
        if let (Some(job), Some(span)) = (found.0, ctx.span(id)) {
            span.extensions_mut().replace(JobTag(job));
        }
    }
}

struct FindJob(Option<JobName>);

impl Visit for FindJob {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "job" {
            self.0 = value.parse().ok();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "job" {
            self.0 = format!("{value:?}").trim_matches('"').parse().ok();
        }
    }
}

/// Lets through the events that happen inside a span of `job` (and every span, so the
/// layer can show the span's fields on each line).
pub(super) struct OnlyJob {
    pub job: JobName,
    pub max: LevelFilter,
}

impl<S> Filter<S> for OnlyJob
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        meta.is_span() || self.max >= *meta.level()
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        cx.event_scope(event).is_some_and(|mut scope| {
            scope.any(|span| span.extensions().get::<JobTag>() == Some(&JobTag(self.job)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::job_layers;
    use super::*;
    use std::path::Path;
    use tracing::{info, info_span, warn};
    use tracing_subscriber::Registry;
    use tracing_subscriber::layer::SubscriberExt;

    fn read_logs(dir: &Path, prefix: &str) -> String {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{prefix}."))
            })
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }

    #[test]
    fn events_under_a_job_span_go_to_that_jobs_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let subscriber = Registry::default()
            .with(JobTagger)
            .with(job_layers(dir.path(), chrono_tz::Asia::Dhaka));
        tracing::subscriber::with_default(subscriber, || {
            info!("outside any job");
            {
                let span = info_span!("orchestrator", job = %JobName::Morning, day = "2026-11-22");
                let _enter = span.enter();
                info!("morning started");
                let inner = info_span!("step");
                let _inner = inner.enter();
                warn!(secret = "none", "nested line");
            }
            let span = info_span!("planner", job = "plan");
            let _enter = span.enter();
            info!("plan started");
            tracing::debug!("too chatty for the file");
        });
        let morning = read_logs(dir.path(), "morning");
        assert!(morning.contains("morning started"), "{morning}");
        assert!(
            morning.contains("orchestrator{job=morning day=\"2026-11-22\"}"),
            "{morning}"
        );
        assert!(morning.contains("nested line"), "{morning}");
        assert!(
            !morning.contains("plan started") && !morning.contains("outside"),
            "{morning}"
        );
        assert!(
            morning.contains("+06:00"),
            "timestamps are in the configured zone: {morning}"
        );
        let plan = read_logs(dir.path(), "plan");
        assert!(
            plan.contains("plan started") && !plan.contains("morning started"),
            "{plan}"
        );
        assert!(!plan.contains("too chatty"), "{plan}");
        assert!(
            read_logs(dir.path(), "wrapup").is_empty(),
            "a job that logged nothing has no file"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "only morning and plan files exist"
        );
    }
}
