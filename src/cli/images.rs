//! Image commands: `images`, `image ls|inspect|history|tag|rm|prune`, `inspect`, `history`,
//! `tag`, `rmi`.

use std::io::{BufRead, Write};
use std::sync::Arc;

use serde_json::Value;

use super::args::{HistoryArgs, ImageCommand, ImagesArgs, InspectArgs, PruneArgs, RmiArgs, TagArgs};
use super::format::{Table, ago, ellipsis, human_size, short_id};
use super::output::{Failure, Outcome, print};
use super::template::Template;
use crate::engine::Engine;
use crate::engine::image::{ImageSummary, Removal};
use crate::engine::reference::parse_repository;

pub async fn image_command(engine: &Arc<Engine>, cmd: ImageCommand) -> Outcome {
    match cmd {
        ImageCommand::Ls(a) => list(engine, a),
        ImageCommand::Pull(a) => super::pull::pull(engine, a).await,
        ImageCommand::Inspect(a) => inspect(engine, a),
        ImageCommand::History(a) => history(engine, a),
        ImageCommand::Tag(a) => tag(engine, a),
        ImageCommand::Rm(a) => rmi(engine, a),
        ImageCommand::Prune(a) => prune(engine, a),
    }
}

/// One displayed row: an image under one of its names.
struct Row<'a> {
    repo: String,
    tag: String,
    digest: String,
    image: &'a ImageSummary,
}

fn rows(images: &[ImageSummary]) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for img in images {
        let digest_for = |repo: &str| {
            img.digests
                .iter()
                .find(|d| d.familiar_name() == repo)
                .and_then(|d| d.digest())
                .map(|d| d.to_string())
        };
        for t in &img.tags {
            let repo = t.familiar_name();
            out.push(Row {
                digest: digest_for(&repo).unwrap_or_else(|| "<none>".into()),
                tag: t.tag().unwrap_or("<none>").to_string(),
                repo,
                image: img,
            });
        }
        if img.tags.is_empty() {
            // Pulled by digest only, or untagged: shown as <none>, under its repository if known.
            let repos: std::collections::BTreeSet<String> =
                img.digests.iter().map(|d| d.familiar_name()).collect();
            if repos.is_empty() {
                out.push(Row {
                    repo: "<none>".into(),
                    tag: "<none>".into(),
                    digest: "<none>".into(),
                    image: img,
                });
            }
            for repo in repos {
                out.push(Row {
                    digest: digest_for(&repo).unwrap_or_else(|| "<none>".into()),
                    repo,
                    tag: "<none>".into(),
                    image: img,
                });
            }
        }
    }
    out
}

pub fn list(engine: &Arc<Engine>, a: ImagesArgs) -> Outcome {
    let images = engine.images()?;
    let filter = a.repository.as_deref().map(repo_filter).transpose()?;
    let mut rows = rows(&images);
    if let Some((repo, tag)) = &filter {
        rows.retain(|r| {
            let full =
                parse_repository(&r.repo).map(|(reg, path)| format!("{reg}/{path}")).unwrap_or_default();
            &full == repo && tag.as_ref().is_none_or(|t| *t == r.tag)
        });
    }
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        let mut out = String::new();
        for r in rows {
            if seen.insert(r.image.id.clone()) {
                out.push_str(&short_id(&r.image.id.to_string(), a.no_trunc));
                out.push('\n');
            }
        }
        return print(&out);
    }
    if let Some(fmt) = &a.format {
        let t = Template::parse(fmt).map_err(Failure::new)?;
        let mut out = String::new();
        for r in &rows {
            let v = serde_json::json!({
                "Repository": r.repo, "Tag": r.tag, "Digest": r.digest,
                "ID": short_id(&r.image.id.to_string(), a.no_trunc),
                "CreatedSince": ago(r.image.created), "CreatedAt": r.image.created.map(|c| c.to_rfc3339()),
                "Size": human_size(r.image.size),
            });
            out.push_str(&t.render(&v).map_err(Failure::new)?);
            out.push('\n');
        }
        return print(&out);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    if a.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let mut table = Table::new(&header);
    for r in rows {
        let mut cells = vec![r.repo, r.tag];
        if a.digests {
            cells.push(r.digest);
        }
        cells.push(short_id(&r.image.id.to_string(), a.no_trunc));
        cells.push(ago(r.image.created));
        cells.push(human_size(r.image.size));
        table.row(cells);
    }
    print(&table.render())
}

/// `REPO[:TAG]` → (fully qualified repository, tag).
fn repo_filter(s: &str) -> Result<(String, Option<String>), Failure> {
    let (name, tag) = match s.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t.to_string())),
        _ => (s, None),
    };
    let (reg, path) = parse_repository(name)?;
    Ok((format!("{reg}/{path}"), tag))
}

/// What `inspect` looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Any,
    Image,
    Container,
    Network,
}

pub fn inspect(engine: &Arc<Engine>, a: InspectArgs) -> Outcome {
    let kind = match a.kind.as_deref() {
        None => Kind::Any,
        Some("image") => Kind::Image,
        Some("container") => Kind::Container,
        Some("network") => Kind::Network,
        Some(k) => {
            return Err(Failure::new(format!("unsupported --type {k:?} (image, container or network)")));
        }
    };
    inspect_kind(engine, a, kind)
}

pub fn inspect_containers_only(engine: &Arc<Engine>, a: InspectArgs) -> Outcome {
    inspect_kind(engine, a, Kind::Container)
}

pub fn inspect_networks_only(engine: &Arc<Engine>, a: InspectArgs) -> Outcome {
    inspect_kind(engine, a, Kind::Network)
}

fn inspect_kind(engine: &Arc<Engine>, a: InspectArgs, kind: Kind) -> Outcome {
    let template = a.format.as_deref().map(Template::parse).transpose().map_err(Failure::new)?;
    let mut found = Vec::new();
    let mut failed = false;
    for name in &a.names {
        // Containers first, then images, then networks, as Docker does.
        let result = match kind {
            Kind::Container => engine.inspect_container(name),
            Kind::Image => engine.inspect_image(name),
            Kind::Network => engine.inspect_network(name),
            Kind::Any => engine
                .inspect_container(name)
                .or_else(|_| engine.inspect_image(name))
                .or_else(|_| engine.inspect_network(name)),
        };
        match result {
            Ok(v) => found.push(v),
            Err(e) => {
                eprintln!("Error: No such object: {name}");
                tracing::debug!(error = %e, "inspect failed");
                failed = true;
            }
        }
    }
    match template {
        Some(t) => {
            let mut out = String::new();
            for v in &found {
                out.push_str(&t.render(v).map_err(Failure::new)?);
                out.push('\n');
            }
            print(&out)?;
        }
        None => print(&format!("{}\n", crate::text::pretty_json(&Value::Array(found))))?,
    }
    if failed { Err(Failure::silent(1)) } else { Ok(()) }
}

pub fn history(engine: &Arc<Engine>, a: HistoryArgs) -> Outcome {
    let entries = engine.history(&a.image)?;
    let id_of = |e: &crate::engine::image::HistoryEntry| match &e.id {
        Some(id) => short_id(&id.to_string(), a.no_trunc),
        None => "<missing>".into(),
    };
    if a.quiet {
        let out: String = entries.iter().map(|e| format!("{}\n", id_of(e))).collect();
        return print(&out);
    }
    let mut table = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    for e in &entries {
        let by = e.created_by.replace(['\t', '\n'], " ");
        let by = if a.no_trunc { by } else { ellipsis(&by, 45) };
        let created =
            if a.human { ago(e.created) } else { e.created.map(|c| c.to_rfc3339()).unwrap_or_default() };
        let size = if a.human { human_size(e.size) } else { e.size.to_string() };
        table.row(vec![id_of(e), created, by, size, e.comment.clone()]);
    }
    print(&table.render())
}

pub fn tag(engine: &Arc<Engine>, a: TagArgs) -> Outcome {
    engine.tag(&a.source, &a.target)?;
    Ok(())
}

pub fn rmi(engine: &Arc<Engine>, a: RmiArgs) -> Outcome {
    let mut failed = false;
    for name in &a.images {
        match engine.remove_image(name, a.force) {
            Ok(removals) => print(&render_removals(&removals, "Untagged", "Deleted"))?,
            Err(e) => {
                eprintln!("Error: {}", super::output::describe(&e));
                failed = true;
            }
        }
    }
    if failed { Err(Failure::silent(1)) } else { Ok(()) }
}

fn render_removals(removals: &[Removal], untagged: &str, deleted: &str) -> String {
    removals
        .iter()
        .map(|r| match r {
            Removal::Untagged(n) => format!("{untagged}: {n}\n"),
            Removal::Deleted(d) => format!("{deleted}: {d}\n"),
        })
        .collect()
}

pub fn prune(engine: &Arc<Engine>, a: PruneArgs) -> Outcome {
    if !a.force {
        let warning = if a.all {
            "WARNING! This will remove all images without at least one container associated to them."
        } else {
            "WARNING! This will remove all dangling images."
        };
        if !confirm(warning)? {
            return Ok(());
        }
    }
    let report = engine.prune_images(a.all)?;
    let mut out = String::new();
    if !report.removals.is_empty() {
        out.push_str("Deleted Images:\n");
        out.push_str(&render_removals(&report.removals, "untagged", "deleted"));
        out.push('\n');
    }
    out.push_str(&format!("Total reclaimed space: {}\n", human_size(report.reclaimed)));
    print(&out)
}

/// Docker's `[y/N]` prompt; refuses without a terminal to ask on.
pub fn confirm(warning: &str) -> Result<bool, Failure> {
    print(&format!("{warning}\nAre you sure you want to continue? [y/N] "))?;
    let _ = std::io::stdout().flush();
    // Like Docker, read the answer from stdin even when it is not a terminal; an empty or
    // closed stdin means "no".
    let stdin = std::io::stdin();
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| Failure::new(format!("reading answer: {e}")))?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
