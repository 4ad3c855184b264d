//! `gantry events`: the recorded lifecycle events (from every gantry process), then new ones as
//! they happen, until `--until` or interruption.

use std::sync::Arc;
use std::time::Duration;

use super::args::EventsArgs;
use super::output::{Failure, Outcome, print};
use super::template::Template;
use crate::engine::container::logs::parse_time;
use crate::engine::{Engine, LifecycleEvent};

fn nanos(s: &str) -> Result<i64, Failure> {
    let t = parse_time(s, chrono::Utc::now()).map_err(Failure::usage)?;
    chrono::DateTime::parse_from_rfc3339(&t)
        .map(|t| t.timestamp_nanos_opt().unwrap_or_default())
        .map_err(|e| Failure::usage(e.to_string()))
}

fn keep(e: &LifecycleEvent, filters: &[(String, String)], engine: &Engine) -> bool {
    filters.iter().all(|(k, v)| match k.as_str() {
        "type" => &e.kind == v,
        "event" => &e.action == v,
        "container" => {
            e.kind == "container"
                && (e.id.starts_with(v.as_str())
                    || e.attributes.iter().any(|(a, b)| a == "name" && b == v)
                    || engine.resolve_container(v).map(|id| id == e.id).unwrap_or(false))
        }
        "image" => {
            e.kind == "image"
                && (e.id.contains(v.as_str())
                    || e.attributes.iter().any(|(a, b)| a == "name" && b.contains(v.as_str())))
                || e.attributes.iter().any(|(a, b)| a == "image" && b == v)
        }
        _ => true,
    })
}

fn render(e: &LifecycleEvent, template: Option<&Template>) -> Result<String, Failure> {
    let time = chrono::DateTime::from_timestamp_nanos(e.time_nanos);
    if let Some(t) = template {
        let attrs: serde_json::Map<String, serde_json::Value> =
            e.attributes.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
        let v = serde_json::json!({"Type": e.kind, "Action": e.action, "ID": e.id, "Time": time.timestamp(), "TimeNano": e.time_nanos, "Actor": {"ID": e.id, "Attributes": attrs}});
        return t.render(&v).map(|s| s + "\n").map_err(Failure::new);
    }
    let mut line = format!(
        "{} {} {} {}",
        time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
        e.kind,
        e.action,
        e.id
    );
    if !e.attributes.is_empty() {
        let attrs: Vec<String> = e.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line.push('\n');
    Ok(line)
}

pub async fn events(engine: &Arc<Engine>, a: EventsArgs) -> Outcome {
    let filters: Vec<(String, String)> = a
        .filter
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| Failure::usage(format!("bad filter {f:?}")))
        })
        .collect::<Result<_, _>>()?;
    let template = a.format.as_deref().map(Template::parse).transpose().map_err(Failure::new)?;
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let mut since = match &a.since {
        Some(s) => nanos(s)?,
        None => now,
    };
    let until = a.until.as_deref().map(nanos).transpose()?;
    loop {
        let upto = until.unwrap_or(i64::MAX);
        let batch = engine.recorded_events(since, upto)?;
        for e in &batch {
            if keep(e, &filters, engine) {
                print(&render(e, template.as_ref())?)?;
            }
            since = since.max(e.time_nanos + 1);
        }
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        if until.is_some_and(|u| now >= u) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
