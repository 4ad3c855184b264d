//! A hostile registry (a tiny in-test HTTP server) against the pull pipeline: wrong digests,
//! lying configs, oversized manifests, connections cut mid-layer, schema 1, registry error
//! JSON, archive breakouts, cross-host redirects and a killed puller. After each failure the
//! store must hold nothing: no layer, no image, no scratch data.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Gantry;
use common::http::{Image, Reply, Request, Server, sha256, tar_of};

fn simple_image() -> Image {
    Image::new(&[tar_of(&[("hello.txt", b"hello")]), tar_of(&[("big.bin", &vec![7u8; 300_000])])], None)
}

#[track_caller]
fn assert_nothing_stored(g: &Gantry) {
    assert!(g.entries("layers").is_empty(), "layers: {:?}", g.entries("layers"));
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    g.assert_clean_scratch();
}

#[test]
fn serves_a_correct_image() {
    // The control case: the in-test registry works, so failures below are the hostility's.
    let img = simple_image();
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    let out = g.run(&["pull", &format!("{}/ok/image", s.host())]);
    assert!(out.ok().contains("Downloaded newer image"), "{}", out.stdout);
    assert_eq!(g.entries("layers").len(), 2);
}

#[test]
fn blob_digest_mismatch_commits_nothing() {
    let img = simple_image();
    let layer = img.layers[1].clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) {
            // Same size, different content.
            let mut evil = layer.clone();
            let n = evil.len();
            evil[n - 10] ^= 0xff;
            return Reply::ok("application/octet-stream", evil);
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let out = g.run(&["pull", &format!("{}/evil/digest", s.host())]);
    let err = out.fails();
    assert!(err.contains("mismatch") || err.contains("decompressing"), "{err}");
    // The good layer may be stored (it verified), but never the bad one and never the image.
    assert!(g.entries("layers").len() <= 1);
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    g.assert_clean_scratch();
}

#[test]
fn lying_config_diff_id_commits_nothing() {
    let tar = tar_of(&[("a", b"a")]);
    let img = Image::new(std::slice::from_ref(&tar), Some(vec![sha256(b"something else")]));
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/diffid", s.host())]);
    assert!(err.fails().contains("layer diffID mismatch"), "{}", err.stderr);
    assert_nothing_stored(&g);
}

#[test]
fn oversized_manifest_is_refused() {
    let s = Server::start(|r: &Request| {
        if r.path.contains("/manifests/") {
            let mut body =
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","pad":""#
                    .to_vec();
            body.extend(std::iter::repeat_n(b'x', 5 << 20));
            body.extend(b"\"}");
            return Reply::ok("application/vnd.oci.image.manifest.v1+json", body);
        }
        Reply::ok("application/json", b"{}".to_vec())
    });
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/big", s.host())]);
    assert!(
        err.fails().contains("manifest from") && err.stderr.contains("larger than the 4194304-byte limit"),
        "{}",
        err.stderr
    );
    assert_nothing_stored(&g);
}

#[test]
fn connection_cut_mid_layer_is_retried_then_fails_cleanly() {
    let img = simple_image();
    let layer = img.layers[1].clone();
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) {
            seen.fetch_add(1, Ordering::SeqCst);
            return Reply::Cut { declared: layer.len(), body: layer[..layer.len() / 2].to_vec() };
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/cut", s.host())]);
    let msg = err.fails();
    assert!(
        msg.contains("connection") || msg.contains("interrupted") || msg.contains("error decoding"),
        "{msg}"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "retried from scratch");
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    assert!(g.entries("layers").len() <= 1, "only the intact layer may be stored");
    g.assert_clean_scratch();
}

#[test]
fn a_cut_connection_that_recovers_succeeds() {
    let img = simple_image();
    let layer = img.layers[1].clone();
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::Cut { declared: layer.len(), body: layer[..1000].to_vec() };
        }
        img.reply(r)
    });
    let g = Gantry::new();
    g.run(&["pull", &format!("{}/flaky/image", s.host())]).ok();
    assert_eq!(g.entries("layers").len(), 2);
    g.assert_clean_scratch();
}

#[test]
fn schema1_and_registry_errors_are_readable() {
    let s = Server::start(|r: &Request| {
        if r.path.contains("/old/") && r.path.contains("/manifests/") {
            return Reply::ok(
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                br#"{"schemaVersion":1,"fsLayers":[]}"#.to_vec(),
            );
        }
        if r.path.contains("/manifests/") {
            return Reply::status(
                404,
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#,
            );
        }
        Reply::ok("application/json", b"{}".to_vec())
    });
    let g = Gantry::new();
    let old = g.run(&["pull", &format!("{}/old/image", s.host())]);
    assert!(old.fails().contains("schema 1 is not supported"), "{}", old.stderr);
    let missing = g.run(&["pull", &format!("{}/library/nope", s.host())]);
    assert!(
        missing.fails().contains(&format!("manifest unknown: {}/library/nope:latest", s.host())),
        "{}",
        missing.stderr
    );
    assert_nothing_stored(&g);
}

#[test]
fn unsupported_media_types_are_refused() {
    let img = simple_image();
    let manifest = String::from_utf8(img.manifest.clone())
        .unwrap()
        .replace("application/vnd.oci.image.config.v1+json", "application/vnd.cncf.helm.config.v1+json");
    let s = Server::start(move |r: &Request| {
        if r.path.contains("/manifests/") {
            return Reply::ok("application/vnd.oci.image.manifest.v1+json", manifest.clone().into_bytes());
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/helm/chart", s.host())]);
    assert!(err.fails().contains("not a container image"), "{}", err.stderr);
    assert_nothing_stored(&g);
}

#[test]
fn breakout_layer_is_refused_and_writes_nothing_outside() {
    // A tar whose entry climbs out of the layer root with `..`.
    let mut h = tar::Header::new_gnu();
    let name = b"../../../../../../tmp/gantry-breakout-canary";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(4);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend(b"evil");
    tar.extend(std::iter::repeat_n(0u8, 512 - 4 + 1024));
    let img = Image::new(&[tar], None);
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/breakout", s.host())]);
    assert!(err.fails().contains("extracting layer"), "{}", err.stderr);
    assert!(!std::path::Path::new("/tmp/gantry-breakout-canary").exists());
    assert_nothing_stored(&g);
}

#[test]
fn decompression_bomb_hits_the_budget() {
    // 64 MiB of zeros compress to ~64 KiB; the configured budget is 8 MiB.
    let tar = tar_of(&[("zeros", &vec![0u8; 64 << 20])]);
    let img = Image::new(&[tar], None);
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    g.set_config("max_layer_bytes = 8388608\n");
    let err = g.run(&["pull", &format!("{}/evil/bomb", s.host())]);
    let msg = err.fails();
    assert!(msg.contains("budget"), "{msg}");
    assert_nothing_stored(&g);
}

#[test]
fn authorization_is_not_forwarded_across_hosts() {
    let img = simple_image();
    let layer = img.layers[1].clone();
    // B serves the blob and records whether it ever saw credentials.
    let b_saw_auth = Arc::new(Mutex::new(Vec::new()));
    let seen = b_saw_auth.clone();
    let blob = layer.clone();
    let b = Server::start(move |r: &Request| {
        seen.lock().unwrap().push(r.header("authorization").map(String::from));
        Reply::ok("application/octet-stream", blob.clone())
    });
    let b_host = format!("localhost:{}", b.addr.port());
    // A demands Basic auth and redirects the big layer to B.
    let a = Server::start(move |r: &Request| {
        if r.header("authorization").is_none() {
            return Reply::Full {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), "Basic realm=\"t\"".into())],
                body: Vec::new(),
            };
        }
        if r.path.ends_with(&sha256(&layer)) {
            return Reply::Full {
                status: 307,
                headers: vec![("Location".into(), format!("http://{b_host}/blob"))],
                body: Vec::new(),
            };
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let login = g.run(&["login", "-u", "u", "-p", "secret", &a.host()]);
    assert_eq!(login.ok(), "Login Succeeded\n");
    g.run(&["pull", &format!("{}/redirect/image", a.host())]).ok();
    let seen = b_saw_auth.lock().unwrap().clone();
    assert!(!seen.is_empty(), "B was asked for the blob");
    assert!(seen.iter().all(Option::is_none), "credentials leaked to another host: {seen:?}");
    assert!(a.requests().iter().any(|r| r.header("authorization").is_some_and(|h| h.starts_with("Basic "))));
}

#[test]
fn killed_pull_leaves_nothing_and_a_later_pull_starts_clean() {
    let img = simple_image();
    let layer = img.layers[1].clone();
    let stall = Arc::new(AtomicUsize::new(0));
    let hits = stall.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            // Hang on the layer request so the puller can be killed mid-pull.
            std::thread::sleep(Duration::from_secs(20));
            return Reply::Cut { declared: layer.len(), body: Vec::new() };
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let image = format!("{}/killed/image", s.host());
    let mut child = g
        .command(&["pull", &image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stall.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!g.entries("tmp").is_empty(), "the killed pull had scratch data in progress");
    child.kill().unwrap();
    child.wait().unwrap();
    // The next command sweeps the dead process's scratch data; the image is not there.
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    g.assert_clean_scratch();
    g.run(&["pull", &image]).ok();
    assert_eq!(g.entries("layers").len(), 2);
    g.assert_clean_scratch();
}
