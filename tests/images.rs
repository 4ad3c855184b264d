//! Image management against pulled fixtures: `images`, `history`, `inspect -f`, `tag`, `rmi`
//! (Docker's untag-versus-delete rules) and `image prune`.

mod common;

use common::{Gantry, rig};

fn pulled(images: &[&str]) -> (Gantry, String) {
    let r = rig();
    let g = Gantry::new();
    for i in images {
        g.run(&["pull", "-q", &format!("{}/{i}", r.registry)]).ok();
    }
    (g, r.registry)
}

#[test]
fn images_lists_like_docker() {
    let (g, reg) = pulled(&["fixtures/busybox:oci", "fixtures/layered"]);
    let out = g.run(&["images"]);
    let text = out.ok();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("REPOSITORY"), "{header}");
    for col in ["TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(header.contains(col), "{header}");
    }
    let layered = text.lines().find(|l| l.contains("fixtures/layered")).expect("layered row");
    let cells: Vec<&str> = layered.split("   ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(cells[0], format!("{reg}/fixtures/layered"));
    assert_eq!(cells[1], "latest");
    assert_eq!(cells[2].len(), 12, "12-char ID: {cells:?}");
    assert!(cells[3].ends_with("ago"), "{cells:?}");
    assert!(cells[4].ends_with("MB"), "human size: {cells:?}");

    let q = g.run(&["images", "-q"]);
    assert_eq!(q.ok().lines().count(), 2);
    let full = g.run(&["images", "-q", "--no-trunc"]);
    assert!(full.ok().lines().all(|l| l.starts_with("sha256:") && l.len() == 71), "{}", full.stdout);
    let filtered = g.run(&["images", &format!("{reg}/fixtures/busybox")]);
    assert_eq!(filtered.ok().lines().count(), 2, "{}", filtered.stdout);
    let by_tag = g.run(&["images", &format!("{reg}/fixtures/busybox:nope")]);
    assert_eq!(by_tag.ok().lines().count(), 1, "header only");
    let digests = g.run(&["images", "--digests"]);
    assert!(digests.ok().lines().next().unwrap().contains("DIGEST"));
    assert!(digests.stdout.contains("sha256:"), "{}", digests.stdout);
    let fmt = g.run(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(fmt.ok().lines().any(|l| l == format!("{reg}/fixtures/layered:latest")), "{}", fmt.stdout);
}

#[test]
fn history_shows_layers_newest_first() {
    let (g, reg) = pulled(&["fixtures/layered"]);
    let out = g.run(&["history", &format!("{reg}/fixtures/layered")]);
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("IMAGE") && lines[0].contains("CREATED BY") && lines[0].contains("COMMENT"));
    assert_eq!(lines.len(), 1 + 7, "{text}");
    assert_eq!(lines[1].split_whitespace().next().unwrap().len(), 12, "top row has the image ID");
    assert!(lines[2..].iter().all(|l| l.starts_with("<missing>")), "{text}");
    assert!(text.contains("8.39MB"), "the 8 MiB layer's size: {text}");
    let q = g.run(&["history", "-q", &format!("{reg}/fixtures/layered")]);
    assert_eq!(q.ok().lines().count(), 7);
    let nt = g.run(&["history", "--no-trunc", &format!("{reg}/fixtures/layered")]);
    assert!(nt.ok().contains("sha256:"));
}

#[test]
fn inspect_templates_and_errors() {
    let (g, reg) = pulled(&["fixtures/web"]);
    let img = format!("{reg}/fixtures/web");
    let out = g.run(&[
        "inspect",
        "-f",
        "{{.Os}} {{json .Config.ExposedPorts}} {{index .Config.Labels \"org.gantry.fixture\"}}",
        &img,
    ]);
    assert_eq!(out.ok().trim(), r#"linux {"80/tcp":{}} web"#);
    let id = g.run(&["inspect", "-f", "{{.Id}}", &img]).ok().trim().to_string();
    assert!(id.starts_with("sha256:"));
    // By short ID and by ID prefix.
    let short = &id[7..19];
    assert_eq!(g.run(&["inspect", "-f", "{{.Id}}", short]).ok().trim(), id);
    assert_eq!(g.run(&["inspect", "-f", "{{.Id}}", &id[7..11]]).ok().trim(), id);
    let missing = g.run(&["inspect", "nope"]);
    assert!(missing.fails().contains("No such object: nope"), "{}", missing.stderr);
    assert_eq!(missing.stdout.trim(), "[]");
    let bad = g.run(&["inspect", "-f", "{{.Nope}}", &img]);
    assert!(bad.fails().contains("can't evaluate field Nope"), "{}", bad.stderr);
}

#[test]
fn tag_and_rmi_follow_docker_rules() {
    let (g, reg) = pulled(&["fixtures/busybox:oci"]);
    let src = format!("{reg}/fixtures/busybox:oci");
    g.run(&["tag", &src, "mine:v1"]).ok();
    g.run(&["tag", &src, "other/repo"]).ok();
    let id = g.run(&["inspect", "-f", "{{.Id}}", "mine:v1"]).ok().trim().to_string();
    assert_eq!(g.run(&["inspect", "-f", "{{.Id}}", "other/repo:latest"]).ok().trim(), id);

    // Removing one of several names only untags.
    let out = g.run(&["rmi", "mine:v1"]);
    assert_eq!(out.ok(), "Untagged: mine:v1\n");
    // By ID while several repositories refer to it: refused without -f.
    let conflict = g.run(&["rmi", &id[7..19]]);
    let err = conflict.fails();
    assert!(
        err.contains("conflict: unable to delete") && err.contains("referenced in multiple repositories"),
        "{err}"
    );
    // Removing the last name deletes the image and its layers.
    g.run(&["rmi", "other/repo"]).ok();
    let out = g.run(&["rmi", &src]);
    let text = out.ok();
    assert!(text.contains(&format!("Untagged: {src}")), "{text}");
    assert!(text.contains(&format!("Untagged: {reg}/fixtures/busybox@sha256:")), "{text}");
    assert!(text.contains(&format!("Deleted: {id}")), "{text}");
    assert!(g.entries("layers").is_empty(), "layers left: {:?}", g.entries("layers"));
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    assert!(g.entries("blobs/sha256").is_empty(), "blobs left: {:?}", g.entries("blobs/sha256"));

    // -f removes an image referenced from several repositories; several args at once.
    g.run(&["pull", "-q", &src]).ok();
    g.run(&["tag", &src, "a/b"]).ok();
    let out = g.run(&["rmi", "-f", &id[7..19], "nope:1"]);
    assert_eq!(out.code, 1, "one of the two failed");
    assert!(out.stdout.contains(&format!("Deleted: {id}")), "{}", out.stdout);
    assert!(out.stderr.contains("No such image: nope:1"), "{}", out.stderr);
    assert!(g.run(&["images", "-q"]).ok().is_empty());
}

#[test]
fn layers_shared_between_images_survive_rmi_of_one() {
    let (g, reg) = pulled(&["fixtures/busybox:oci", "fixtures/layered"]);
    assert_eq!(g.entries("layers").len(), 5);
    g.run(&["rmi", &format!("{reg}/fixtures/layered")]).ok();
    assert_eq!(g.entries("layers").len(), 1, "busybox's layer stays");
    let again = g.run(&["pull", &format!("{reg}/fixtures/busybox:oci")]);
    assert!(again.ok().contains("Image is up to date"));
}

#[test]
fn prune_removes_dangling_then_all() {
    let (g, reg) = pulled(&["fixtures/web", "fixtures/multiarch"]);
    // Re-pulling the multiarch tag for another platform leaves the amd64 image dangling.
    g.run(&["pull", "-q", "--platform", "linux/arm64", &format!("{reg}/fixtures/multiarch")]).ok();
    let list = g.run(&["images"]);
    assert!(list.ok().contains("<none>"), "{}", list.stdout);
    // Without -f it asks; "n" keeps everything.
    let declined = g.run_with_input(&["image", "prune"], "n\n");
    assert!(declined.ok().contains("WARNING! This will remove all dangling images."));
    assert_eq!(g.run(&["images", "-q"]).ok().lines().count(), 3);
    let out = g.run(&["image", "prune", "-f"]);
    let text = out.ok();
    assert!(text.starts_with("Deleted Images:\n"), "{text}");
    assert!(text.contains("deleted: sha256:"), "{text}");
    assert!(text.contains("Total reclaimed space: "), "{text}");
    assert_eq!(g.run(&["images", "-q"]).ok().lines().count(), 2);
    let all = g.run(&["image", "prune", "-a", "-f"]);
    assert!(all.ok().contains("untagged: "), "{}", all.stdout);
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    assert!(g.entries("layers").is_empty());
    let nothing = g.run(&["image", "prune", "-f"]);
    assert_eq!(nothing.ok(), "Total reclaimed space: 0B\n");
}

/// The state root is root-only from the first command on, whatever that command made first
/// (the log directory): the database in it holds the containers' environments.
#[test]
fn the_state_root_is_private_from_the_first_command() {
    use std::os::unix::fs::PermissionsExt;
    let g = Gantry::new();
    assert!(!g.root().exists());
    g.run(&["images", "-q"]).ok();
    let mode = std::fs::metadata(g.root()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
}
