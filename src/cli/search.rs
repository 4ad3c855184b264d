//! `search` and `registry repos|tags`: browsing registries without pulling.

use std::sync::Arc;

use super::args::{RegistryCommand, ReposArgs, SearchArgs, TagsArgs};
use super::format::{Table, ellipsis, human_size};
use super::output::{Failure, Outcome, print};
use crate::engine::Engine;
use crate::engine::reference::Reference;

pub async fn search(engine: &Arc<Engine>, a: SearchArgs) -> Outcome {
    let results = engine.search(&a.term, a.limit).await?;
    let mut table = Table::new(&["NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"]);
    for r in results {
        let desc = r.description.replace(['\n', '\r', '\t'], " ");
        let desc = if a.no_trunc { desc } else { ellipsis(&desc, 45) };
        let ok = |b: bool| if b { "[OK]".to_string() } else { String::new() };
        table.row(vec![r.name, desc, r.stars.to_string(), ok(r.official), ok(r.automated)]);
    }
    print(&table.render())
}

pub async fn registry(engine: &Arc<Engine>, cmd: RegistryCommand) -> Outcome {
    match cmd {
        RegistryCommand::Repos(a) => repos(engine, a).await,
        RegistryCommand::Tags(a) => tags(engine, a).await,
    }
}

async fn repos(engine: &Arc<Engine>, a: ReposArgs) -> Outcome {
    let registry = super::auth::normalize_server(Some(&a.registry));
    let repos = engine.list_repositories(&registry, a.limit).await?;
    let out: String = repos.iter().map(|r| format!("{registry}/{r}\n")).collect();
    print(&out)
}

async fn tags(engine: &Arc<Engine>, a: TagsArgs) -> Outcome {
    let reference = Reference::parse(&a.repository)?;
    if a.repository.contains('@') {
        return Err(Failure::usage("registry tags takes a repository, not a digest reference"));
    }
    let tags = engine.list_tags(&reference, a.limit).await?;
    if !a.details {
        let out: String = tags.iter().map(|t| format!("{t}\n")).collect();
        return print(&out);
    }
    let mut table = Table::new(&["TAG", "DIGEST", "PLATFORMS", "SIZE"]);
    for t in tags {
        let d = engine.tag_details(&reference.with_tag(&t)?).await?;
        table.row(vec![d.tag, d.digest.to_string(), d.platforms.join(","), human_size(d.size)]);
    }
    print(&table.render())
}
