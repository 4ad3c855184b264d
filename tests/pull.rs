//! `gantry pull` against the rig's real registry (Docker's distribution, fixtures built by umoci
//! and pushed by skopeo): every manifest kind, platform selection, layer sharing, the union view
//! of whiteouts and opaque directories, concurrency and errors.

mod common;

use common::{Gantry, MountGuard, rig};
use serde_json::Value;

fn inspect(g: &Gantry, image: &str) -> Value {
    let out = g.run(&["image", "inspect", image]);
    let v: Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v[0].clone()
}

#[test]
fn pulls_every_fixture_kind() {
    let r = rig();
    let g = Gantry::new();
    for (tag, layers) in [
        ("fixtures/busybox:oci", 1),
        ("fixtures/busybox:v2s2", 1),
        ("fixtures/busybox:zstd", 1),
        ("fixtures/web:latest", 2),
        ("fixtures/layered:latest", 5),
    ] {
        let image = format!("{}/{tag}", r.registry);
        let out = g.run(&["pull", &image]);
        let stdout = out.ok();
        assert!(
            stdout.contains(&format!("Status: Downloaded newer image for {image}"))
                || stdout.contains("Image is up to date"),
            "{stdout}"
        );
        assert!(stdout.contains("Digest: sha256:"), "{stdout}");
        assert!(stdout.trim_end().ends_with(&image), "last line is the full reference: {stdout}");
        let v = inspect(&g, &image);
        assert_eq!(v["RootFS"]["Layers"].as_array().map(Vec::len), Some(layers), "{tag}");
        assert_eq!(v["Os"], "linux");
        let tags = v["RepoTags"].as_array().expect("tags");
        assert!(tags.iter().any(|t| t == &Value::String(image.clone())), "{tags:?}");
    }
    // oci, v2s2 and zstd carry the same config, so they are one image with three names.
    let ids = g.run(&["images", "-q", &format!("{}/fixtures/busybox", r.registry)]);
    assert_eq!(ids.ok().lines().count(), 1, "{}", ids.stdout);
    g.assert_clean_scratch();
}

#[test]
fn second_pull_is_up_to_date_and_shares_layers() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/busybox:oci", r.registry);
    let first = g.run(&["pull", &image]);
    assert!(first.ok().contains("Pull complete"), "{}", first.stdout);
    let again = g.run(&["pull", &image]);
    let out = again.ok();
    assert!(out.contains("Already exists"), "{out}");
    assert!(out.contains(&format!("Status: Image is up to date for {image}")), "{out}");
    // The layered image's first layer is busybox's: it must not be fetched again.
    let layered = g.run(&["pull", &format!("{}/fixtures/layered", r.registry)]);
    let out = layered.ok();
    assert!(out.starts_with("Using default tag: latest\n"), "{out}");
    assert_eq!(out.matches("Already exists").count(), 1, "{out}");
    assert_eq!(out.matches("Pull complete").count(), 4, "{out}");
    assert_eq!(g.entries("layers").len(), 5);
}

#[test]
fn quiet_pull_prints_only_the_reference() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/busybox", r.registry);
    let out = g.run(&["pull", "-q", &image]);
    assert_eq!(out.ok(), format!("{image}:latest\n"));
}

#[test]
fn index_selects_the_platform() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/multiarch", r.registry);
    g.run(&["pull", &image]).ok();
    assert_eq!(inspect(&g, &image)["Architecture"], "amd64");
    g.run(&["pull", "--platform", "linux/arm64", &image]).ok();
    let v = inspect(&g, &image);
    assert_eq!(v["Architecture"], "arm64");
    // The index digest is what the name resolves to, as in Docker.
    let digests = v["RepoDigests"].as_array().expect("digests");
    assert!(
        digests.iter().any(|d| d.as_str().is_some_and(|d| d.starts_with(&format!("{image}@sha256:")))),
        "{digests:?}"
    );
    let err = g.run(&["pull", "--platform", "linux/s390x", &image]);
    let msg = err.fails();
    assert!(msg.contains("no matching manifest for linux/s390x"), "{msg}");
    assert!(msg.contains("linux/amd64") && msg.contains("linux/arm64"), "{msg}");
    let bad = g.run(&["pull", "--platform", "linux", &image]);
    assert!(bad.fails().contains("invalid platform"), "{}", bad.stderr);
}

#[test]
fn pull_by_digest_sets_no_tag() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/busybox:oci", r.registry);
    let out = g.run(&["pull", &image]);
    let digest = out.ok().lines().find_map(|l| l.strip_prefix("Digest: ")).expect("digest line").to_string();
    let other = Gantry::new();
    let by_digest = format!("{}/fixtures/busybox@{digest}", r.registry);
    let out = other.run(&["pull", &by_digest]);
    assert!(out.ok().contains(&format!("Downloaded newer image for {by_digest}")), "{}", out.stdout);
    let list = other.run(&["images"]);
    let row = list.ok().lines().nth(1).expect("one row").to_string();
    assert!(row.contains("<none>"), "{row}");
    assert!(inspect(&other, &by_digest)["RepoTags"].as_array().is_some_and(Vec::is_empty));
    // A digest that does not exist is an error from the registry.
    let missing = format!("{}/fixtures/busybox@sha256:{}", r.registry, "0".repeat(64));
    assert!(other.run(&["pull", &missing]).fails().contains("manifest unknown"));
}

#[test]
fn whiteouts_and_opaque_directories_hold_in_the_union() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/layered", r.registry);
    g.run(&["pull", &image]).ok();
    let v = inspect(&g, &image);
    let lower = v["GraphDriver"]["Data"]["LowerDir"].as_str().expect("lowerdir").to_string();
    assert_eq!(lower.split(':').count(), 5);
    // The layer directories themselves keep the markers overlayfs needs.
    let dirs: Vec<&str> = lower.split(':').collect();
    let has_whiteout = dirs.iter().any(|d| {
        std::fs::symlink_metadata(format!("{d}/data/gone.txt")).is_ok_and(|m| {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            m.file_type().is_char_device() && m.rdev() == 0
        })
    });
    assert!(has_whiteout, "no 0:0 whiteout for data/gone.txt in {dirs:?}");
    let mnt = g.dir.path().join("union");
    std::fs::create_dir_all(&mnt).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &format!("ro,lowerdir={lower}")])
        .arg(&mnt)
        .status()
        .expect("mount");
    assert!(status.success(), "mounting overlayfs failed");
    let _guard = MountGuard(mnt.clone());
    assert_eq!(std::fs::read_to_string(mnt.join("data/keep.txt")).map(|s| !s.is_empty()).ok(), Some(true));
    assert!(!mnt.join("data/gone.txt").exists(), "whiteout-deleted file visible");
    assert!(!mnt.join("data/dir-gone").exists(), "whiteout-deleted directory visible");
    assert!(mnt.join("opaque/new.txt").exists());
    assert!(!mnt.join("opaque/old1.txt").exists(), "opaque directory did not hide the lower one");
    assert!(!mnt.join("opaque/old2.txt").exists());
    assert!(mnt.join("bin/busybox").exists());
    assert_eq!(std::fs::metadata(mnt.join("data/big.bin")).map(|m| m.len()).ok(), Some(8 << 20));
}

#[test]
fn concurrent_pulls_of_one_image_share_the_store() {
    let r = rig();
    let g = Gantry::new();
    let image = format!("{}/fixtures/layered", r.registry);
    let children: Vec<_> = (0..3)
        .map(|_| {
            g.command(&["pull", "-q", &image])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(g.entries("layers").len(), 5);
    assert_eq!(g.run(&["images", "-q"]).ok().lines().count(), 1);
    g.assert_clean_scratch();
}

#[test]
fn unknown_repository_or_tag_is_a_clear_error() {
    let r = rig();
    let g = Gantry::new();
    let out = g.run(&["pull", &format!("{}/library/nope", r.registry)]);
    assert_eq!(out.code, 1);
    let expected = format!("manifest unknown: {}/library/nope:latest", r.registry);
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    let out = g.run(&["pull", &format!("{}/fixtures/busybox:nosuchtag", r.registry)]);
    assert!(out.fails().contains("manifest unknown"), "{}", out.stderr);
    assert!(g.entries("layers").is_empty());
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    g.assert_clean_scratch();
}

#[test]
fn malformed_references_are_refused_before_any_request() {
    let g = Gantry::new();
    for (bad, says) in [
        ("Busybox", "must be lowercase"),
        ("busybox:", "invalid reference format"),
        ("busybox@sha256:abc", "invalid"),
        ("a//b", "invalid reference format"),
        (&"a".repeat(300), "must not be more than 255 characters"),
    ] {
        let out = g.run(&["pull", bad]);
        let err = out.fails();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn unreachable_registry_fails_cleanly() {
    let g = Gantry::new();
    // A loopback port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = g.run(&["pull", &format!("127.0.0.1:{port}/x")]);
    let err = out.fails();
    assert!(err.contains("onnection refused") || err.contains("error sending request"), "{err}");
}
