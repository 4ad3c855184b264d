//! `gantry ps`: Docker's columns, STATUS strings ("Up 3 seconds", "Exited (137) 2 minutes
//! ago", "Created", "Paused", "Restarting"), filters and formats.

use std::sync::Arc;

use super::args::PsArgs;
use super::format::{Table, ellipsis, human_duration, short_id, since, status_text};
use super::output::{Failure, Outcome, print};
use super::template::Template;
use crate::engine::Engine;
use crate::engine::container::Container;
use crate::engine::store::containers::State;

/// The STATE column of `--format`: Docker's lowercase state names.
fn state_name(s: State) -> &'static str {
    match s {
        State::Starting => "created",
        other => other.as_str(),
    }
}

/// One `--filter key=value`.
enum Filter {
    Status(String),
    Name(String),
    Label(String, Option<String>),
    Ancestor(String),
    Id(String),
}

fn parse_filters(list: &[String]) -> Result<Vec<Filter>, Failure> {
    list.iter()
        .map(|f| {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| Failure::usage(format!("bad format of filter (expected name=value): {f}")))?;
            Ok(match k {
                "status" => {
                    if !matches!(
                        v,
                        "created" | "restarting" | "running" | "removing" | "paused" | "exited" | "dead"
                    ) {
                        return Err(Failure::usage(format!("invalid filter 'status={v}'")));
                    }
                    Filter::Status(v.into())
                }
                "name" => Filter::Name(v.into()),
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => Filter::Label(lk.into(), Some(lv.into())),
                    None => Filter::Label(v.into(), None),
                },
                "ancestor" => Filter::Ancestor(v.into()),
                "id" => Filter::Id(v.into()),
                _ => return Err(Failure::usage(format!("invalid filter '{k}'"))),
            })
        })
        .collect()
}

fn matches(engine: &Engine, c: &Container, f: &Filter) -> bool {
    match f {
        Filter::Status(s) => state_name(c.row.state) == s,
        Filter::Name(n) => c.row.name.contains(n.trim_start_matches('/')),
        Filter::Label(k, v) => c.config.labels.get(k).is_some_and(|x| v.as_ref().is_none_or(|v| v == x)),
        Filter::Id(p) => c.row.id.starts_with(p),
        Filter::Ancestor(a) => {
            c.row.image_name == *a
                || engine.find_image(a).map(|i| i.id.to_string() == c.row.image_id).unwrap_or(false)
                || c.row.image_id.trim_start_matches("sha256:").starts_with(a)
        }
    }
}

pub fn ps(engine: &Arc<Engine>, a: PsArgs) -> Outcome {
    let filters = parse_filters(&a.filter)?;
    let mut list = engine.containers()?;
    let limit = if a.latest { Some(1) } else { a.last };
    let all = a.all || limit.is_some() || filters.iter().any(|f| matches!(f, Filter::Status(_)));
    if !all {
        list.retain(|c| matches!(c.row.state, State::Running | State::Paused | State::Restarting));
    }
    list.retain(|c| filters.iter().all(|f| matches(engine, c, f)));
    if let Some(n) = limit {
        list.truncate(n);
    }
    let published = engine.all_container_ports()?;
    let ports = |c: &crate::engine::container::Container| -> String {
        if !matches!(c.row.state, State::Running | State::Paused | State::Restarting) {
            return String::new();
        }
        let exposed: Vec<String> = c.config.exposed_ports.keys().cloned().collect();
        let active = published.get(c.id()).map(Vec::as_slice).unwrap_or(&[]);
        crate::engine::network::inspect::ports_text(active, &exposed)
    };
    if a.quiet {
        let out: String =
            list.iter().map(|c| format!("{}\n", if a.no_trunc { c.id() } else { c.short_id() })).collect();
        return print(&out);
    }
    if let Some(fmt) = &a.format {
        let t = Template::parse(fmt).map_err(Failure::new)?;
        let mut out = String::new();
        for c in &list {
            let v = serde_json::json!({
                "ID": if a.no_trunc { c.id() } else { c.short_id() },
                "Image": c.row.image_name,
                "Command": format!("\"{}\"", c.command()),
                "CreatedAt": crate::engine::container::inspect::time_text(c.row.created),
                "RunningFor": format!("{} ago", human_duration(since(c.row.created))),
                "Ports": ports(c),
                "State": state_name(c.row.state),
                "Status": status_text(c),
                "Names": c.row.name,
                "Labels": c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
            });
            out.push_str(&t.render(&v).map_err(Failure::new)?);
            out.push('\n');
        }
        return print(&out);
    }
    let mut table = Table::new(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    for c in &list {
        let cmd = if a.no_trunc { c.command() } else { ellipsis(&c.command(), 20) };
        table.row(vec![
            short_id(c.id(), a.no_trunc),
            c.row.image_name.clone(),
            format!("\"{cmd}\""),
            format!("{} ago", human_duration(since(c.row.created))),
            status_text(c),
            ports(c),
            c.row.name.clone(),
        ]);
    }
    print(&table.render())
}
