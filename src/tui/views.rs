//! Text for the viewer, read from the engine: inspect JSON (containers, images, networks),
//! a container's processes and published ports, an image's history.

use crate::engine::Engine;
use crate::text::{ago, ellipsis, human_size, pretty_json as pretty, short_id};

use super::dialog::Viewer;
use super::update::ViewOf;

pub fn load(engine: &Engine, what: &ViewOf) -> Result<Viewer, String> {
    let short = |id: &str| short_id(id, false);
    let e = |e: crate::engine::Error| e.to_string();
    Ok(match what {
        ViewOf::Container(id) => {
            let name = engine.container(id).map(|c| c.row.name).unwrap_or_else(|_| short(id));
            Viewer::new(format!("inspect {name}"), &pretty(&engine.inspect_container(id).map_err(e)?))
        }
        ViewOf::Image(id) => Viewer::new(
            format!("inspect image {}", short(id)),
            &pretty(&engine.inspect_image(id).map_err(e)?),
        ),
        ViewOf::Network(id) => Viewer::new(
            format!("inspect network {}", short(id)),
            &pretty(&engine.inspect_network(id).map_err(e)?),
        ),
        ViewOf::Top(id) => {
            let name = engine.container(id).map(|c| c.row.name).unwrap_or_else(|_| short(id));
            let mut text = format!("{:<8} {:<8} {:<6} {:<4} {}\n", "PID", "PPID", "UID", "C", "CMD");
            for p in engine.top(id).map_err(e)? {
                text.push_str(&format!(
                    "{:<8} {:<8} {:<6} {:<4} {}\n",
                    p.pid, p.ppid, p.uid, p.cpu_percent, p.cmd
                ));
            }
            Viewer::new(format!("processes of {name}"), &text)
        }
        ViewOf::Ports(id) => {
            let name = engine.container(id).map(|c| c.row.name).unwrap_or_else(|_| short(id));
            let ports = engine.container_ports(id).map_err(e)?;
            let text = if ports.is_empty() {
                "no published ports".to_string()
            } else {
                ports.iter().map(|p| p.mapping() + "\n").collect()
            };
            Viewer::new(format!("ports of {name}"), &text)
        }
        ViewOf::History(id) => {
            let mut text = format!("{:<14} {:<16} {:<48} {:>9}\n", "IMAGE", "CREATED", "CREATED BY", "SIZE");
            for h in engine.history(id).map_err(e)? {
                let image = h.id.map(|d| short(&d.to_string())).unwrap_or_else(|| "<missing>".into());
                let created = ago(h.created);
                let by = ellipsis(&h.created_by.replace(['\t', '\n'], " "), 48);
                text.push_str(&format!("{image:<14} {created:<16} {by:<48} {:>9}\n", human_size(h.size)));
            }
            Viewer::new(format!("history of {}", short(id)), &text)
        }
    })
}
