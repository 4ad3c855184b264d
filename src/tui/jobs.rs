//! Engine work the UI asks for — lifecycle actions, image and network changes, running a
//! container from the form — and the previews shown before a prune. Each job runs as a task
//! and ends as one line for the notice bar: what was done, or the first error.

use std::sync::Arc;

use super::app::{Confirm, Pane};
use super::keymap::{self, Action};
use super::update::{Effect, Msg};
use crate::engine::Engine;
use crate::engine::container::CreateRequest;
use crate::engine::image::Removal;
use crate::engine::network::NetworkCreate;
use crate::engine::store::containers::State;
use crate::text::{human_size, short_id};

/// A pair of (ID or name the engine takes, name to show).
pub type Target = (String, String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// A lifecycle action (start, stop, restart, pause, remove, force-remove) on containers.
    Container(Action, Vec<Target>),
    Kill {
        targets: Vec<Target>,
        signal: String,
    },
    Rename {
        id: String,
        name: String,
        to: String,
    },
    /// `rmi [-f]` each image (a `repo:tag` only loses that name, as in Docker).
    RemoveImages {
        targets: Vec<Target>,
        force: bool,
    },
    Tag {
        image: String,
        to: String,
    },
    PruneImages,
    RemoveNetworks(Vec<Target>),
    PruneNetworks,
    CreateNetwork(NetworkCreate),
    Connect {
        network: Target,
        container: Target,
    },
    Disconnect {
        network: Target,
        container: Target,
    },
    /// `run -d`: create the container and start it.
    Run(Box<CreateRequest>),
}

/// `run -d` from the form: create the container and start it; the UI then selects it.
pub async fn run_container(engine: Arc<Engine>, req: CreateRequest) -> Msg {
    let image = req.image.clone();
    let started = async {
        let created = engine.create_container(req)?;
        engine.start_container(created.container.id()).await?;
        Ok::<_, crate::engine::Error>(created)
    };
    match started.await {
        Ok(created) => {
            let c = created.container;
            let warned = created.warnings.first().map(|w| format!(" (warning: {w})")).unwrap_or_default();
            let text = format!("started {} ({}) from {image}{warned}", c.row.name, c.short_id());
            Msg::Ran { id: c.id().to_string(), text }
        }
        Err(e) => Msg::Done(Err(format!("run {image}: {e}"))),
    }
}

/// Runs a job; the text to show, or the first error.
pub async fn run(engine: Arc<Engine>, job: Job) -> Result<String, String> {
    match job {
        Job::Container(action, targets) => each(&targets, keymap::info(action).name, |id| {
            let engine = Arc::clone(&engine);
            async move { lifecycle(&engine, action, &id).await }
        })
        .await
        .map(|names| format!("{}: {names}", keymap::info(action).name)),
        Job::Kill { targets, signal } => {
            each(&targets, "kill", |id| std::future::ready(engine.kill_container(&id, &signal)))
                .await
                .map(|names| format!("kill -{signal}: {names}"))
        }
        Job::Rename { id, name, to } => {
            engine.rename_container(&id, &to).map_err(|e| e.to_string())?;
            Ok(format!("renamed {name} to {to}"))
        }
        Job::RemoveImages { targets, force } => {
            let mut deleted = 0;
            for (key, name) in &targets {
                let removals = engine.remove_image(key, force).map_err(|e| format!("remove {name}: {e}"))?;
                deleted += removals.iter().filter(|r| matches!(r, Removal::Deleted(_))).count();
            }
            let names = targets.iter().map(|t| t.1.as_str()).collect::<Vec<_>>().join(", ");
            Ok(format!("removed {names} ({deleted} layers and images deleted)"))
        }
        Job::Tag { image, to } => {
            let r = engine.tag(&image, &to).map_err(|e| format!("tag: {e}"))?;
            Ok(format!("tagged {} as {}", short_id(&image, false), r.familiar()))
        }
        Job::PruneImages => {
            let report = engine.prune_images(false).map_err(|e| format!("prune: {e}"))?;
            let deleted = report.removals.iter().filter(|r| matches!(r, Removal::Deleted(_))).count();
            Ok(format!("pruned images: {deleted} deleted, {} freed", human_size(report.reclaimed)))
        }
        Job::RemoveNetworks(targets) => {
            each(&targets, "remove", |id| std::future::ready(engine.remove_network(&id).map(|_| ())))
                .await
                .map(|names| format!("removed network {names}"))
        }
        Job::PruneNetworks => {
            let gone = engine.prune_networks().map_err(|e| format!("prune: {e}"))?;
            Ok(format!("pruned networks: {}", if gone.is_empty() { "none".into() } else { gone.join(", ") }))
        }
        Job::CreateNetwork(req) => {
            let name = req.name.clone();
            let n = engine.create_network(req).map_err(|e| format!("create network {name}: {e}"))?;
            Ok(format!("created network {} ({})", n.name, n.subnet))
        }
        Job::Connect { network, container } => {
            engine
                .connect_network(&network.0, &container.0, &[])
                .map_err(|e| format!("connect {} to {}: {e}", container.1, network.1))?;
            Ok(format!("connected {} to {}", container.1, network.1))
        }
        Job::Disconnect { network, container } => {
            engine
                .disconnect_network(&network.0, &container.0)
                .map_err(|e| format!("disconnect {} from {}: {e}", container.1, network.1))?;
            Ok(format!("disconnected {} from {}", container.1, network.1))
        }
        Job::Run(req) => {
            let image = req.image.clone();
            let created = engine.create_container(*req).map_err(|e| format!("run {image}: {e}"))?;
            let c = created.container;
            engine.start_container(c.id()).await.map_err(|e| format!("run {image}: {e}"))?;
            let warned = created.warnings.first().map(|w| format!(" (warning: {w})")).unwrap_or_default();
            Ok(format!("started {} ({}) from {image}{warned}", c.row.name, c.short_id()))
        }
    }
}

/// Runs `f` on each target's ID in turn; their names joined, or the first failure.
async fn each<F, Fut>(targets: &[Target], verb: &str, f: F) -> Result<String, String>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = crate::engine::error::Result<()>>,
{
    let mut done = Vec::new();
    for (id, name) in targets {
        f(id.clone()).await.map_err(|e| format!("{verb} {name}: {e}"))?;
        done.push(name.as_str());
    }
    Ok(done.join(", "))
}

async fn lifecycle(engine: &Arc<Engine>, action: Action, id: &str) -> crate::engine::error::Result<()> {
    match action {
        Action::Start => engine.start_container(id).await.map(|_| ()),
        Action::Stop => engine.stop_container(id, None).await,
        Action::Restart => engine.restart_container(id, None).await,
        Action::Pause => match engine.container(id) {
            Ok(c) if c.row.state == State::Paused => engine.unpause_container(id),
            _ => engine.pause_container(id),
        },
        Action::Remove => engine.remove_container(id, false).await,
        Action::ForceRemove => engine.remove_container(id, true).await,
        other => Err(crate::engine::Error::InvalidArgument(format!(
            "{} is not a container lifecycle action",
            keymap::info(other).name
        ))),
    }
}

/// Most lines a prune preview lists before "and N more".
const PREVIEW_LINES: usize = 12;

/// What a prune on this pane would remove (and free), to confirm before anything goes.
pub fn prune_preview(engine: &Engine, pane: Pane) -> Result<Confirm, String> {
    let (what, mut names, footer, yes) = match pane {
        Pane::Images => {
            let plan = engine.prune_plan(false).map_err(|e| format!("prune: {e}"))?;
            let names: Vec<String> = plan
                .images
                .iter()
                .map(|i| format!("{}  {}", short_id(&i.id.to_string(), false), human_size(i.size)))
                .collect();
            let footer = format!("frees {}", human_size(plan.reclaim));
            ("dangling images", names, footer, Job::PruneImages)
        }
        Pane::Networks => {
            let nets = engine.network_prune_candidates().map_err(|e| format!("prune: {e}"))?;
            let names: Vec<String> = nets.iter().map(|n| format!("{}  {}", n.name, n.subnet)).collect();
            ("networks without containers", names, String::new(), Job::PruneNetworks)
        }
        _ => return Err("prune works on the images and networks panes".into()),
    };
    if names.is_empty() {
        return Err(format!("nothing to prune: no {what}"));
    }
    let count = names.len();
    if count > PREVIEW_LINES {
        names.truncate(PREVIEW_LINES - 1);
        names.push(format!("… and {} more", count - (PREVIEW_LINES - 1)));
    }
    let mut lines = vec![format!("remove {count} {what}?")];
    lines.extend(names.into_iter().map(|n| format!("  {n}")));
    if !footer.is_empty() {
        lines.push(footer);
    }
    Ok(Confirm { title: "prune".into(), lines, yes: Effect::Job(yes) })
}
