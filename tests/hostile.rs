//! A hostile registry (a tiny in-test HTTP server) against the pull pipeline: wrong digests,
//! lying configs, oversized manifests, connections cut mid-layer, schema 1, registry error
//! JSON, archive breakouts, cross-host redirects and a killed puller. After each failure the
//! store must hold nothing: no layer, no image, no scratch data.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::http::{Image, Reply, Request, Server, sha256, tar_of};
use common::{Gantry, Run};

fn simple_image() -> Image {
    Image::new(&[tar_of(&[("hello.txt", b"hello")]), tar_of(&[("big.bin", &vec![7u8; 300_000])])], None)
}

#[track_caller]
fn assert_nothing_stored(g: &Gantry) {
    assert!(g.entries("layers").is_empty(), "layers: {:?}", g.entries("layers"));
    assert!(g.run(&["images", "-q"]).ok().is_empty());
    g.assert_clean_scratch();
}

/// Pulls `simple_image()` from a registry that serves its big layer as `evil` makes it (given
/// the honest bytes), the rest honestly. The registry lives as long as the test process.
fn pull_with_evil_layer(repo: &str, evil: impl Fn(&[u8]) -> Reply + Send + Sync + 'static) -> (Gantry, Run) {
    pull_with_evil_layer_in(Gantry::new(), repo, evil)
}

fn pull_with_evil_layer_in(
    g: Gantry,
    repo: &str,
    evil: impl Fn(&[u8]) -> Reply + Send + Sync + 'static,
) -> (Gantry, Run) {
    let img = simple_image();
    let layer = img.layers[1].clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) {
            return evil(&layer);
        }
        img.reply(r)
    });
    let out = g.run(&["pull", &format!("{}/{repo}", s.host())]);
    (g, out)
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
    // A byte of the gzip header's timestamp changed: the layer decompresses to exactly the
    // announced diffID, so only the check of the compressed digest can catch it.
    let (g, err) = pull_with_evil_layer("evil/digest", |layer| {
        let mut evil = layer.to_vec();
        evil[4] ^= 0xff;
        Reply::ok("application/octet-stream", evil)
    });
    assert!(err.fails().contains("blob digest mismatch: expected sha256:"), "{}", err.stderr);
    // The other layer verified, but a failed pull gives back what it stored.
    assert_nothing_stored(&g);
}

#[test]
fn corrupt_compressed_data_commits_nothing() {
    let (g, err) = pull_with_evil_layer("evil/gzip", |layer| {
        let mut evil = layer.to_vec();
        let n = evil.len();
        evil[n - 10] ^= 0xff; // inside the deflate stream or its CRC
        Reply::ok("application/octet-stream", evil)
    });
    let msg = err.fails();
    assert!(msg.contains("decompressing") || msg.contains("mismatch"), "{msg}");
    assert_nothing_stored(&g);
}

#[test]
fn config_digest_mismatch_and_oversized_config_are_refused() {
    let img = simple_image();
    let config = img.config.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&config)) {
            let mut evil = config.clone();
            evil.push(b' ');
            return Reply::ok("application/octet-stream", evil);
        }
        img.reply(r)
    });
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/config", s.host())]);
    assert!(
        err.fails().contains("image config sha256:") && err.stderr.contains("failed verification"),
        "{}",
        err.stderr
    );
    assert_nothing_stored(&g);

    let img = simple_image();
    let config = img.config.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&config)) {
            return Reply::ok("application/octet-stream", vec![b' '; 5 << 20]);
        }
        img.reply(r)
    });
    let err = g.run(&["pull", &format!("{}/evil/bigconfig", s.host())]);
    assert!(
        err.fails().contains("image config from")
            && err.stderr.contains("larger than the 4194304-byte limit"),
        "{}",
        err.stderr
    );
    assert_nothing_stored(&g);
}

#[test]
fn a_layer_longer_than_announced_is_refused() {
    let (g, err) = pull_with_evil_layer("evil/long", |layer| {
        let mut long = layer.to_vec();
        long.extend(std::iter::repeat_n(0u8, 200_000));
        Reply::ok("application/octet-stream", long)
    });
    assert!(err.fails().contains("larger than announced"), "{}", err.stderr);
    assert_nothing_stored(&g);
}

#[test]
fn a_huge_error_body_is_not_read_whole() {
    let s = Server::start(|r: &Request| {
        if r.path == "/v2/" {
            return Reply::ok("application/json", b"{}".to_vec());
        }
        let mut body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 3 << 20));
        body.extend(br#""}]}"#);
        Reply::Full { status: 404, headers: vec![("Content-Type".into(), "application/json".into())], body }
    });
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/evil/errbody", s.host())]);
    let msg = err.fails();
    // Past the 1 MiB cap the body is dropped and the status speaks instead.
    assert!(msg.contains("404 not found"), "{msg}");
    assert!(msg.len() < 1000, "the hostile body must not reach the terminal: {} bytes", msg.len());
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
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let (g, err) = pull_with_evil_layer("evil/cut", move |layer| {
        seen.fetch_add(1, Ordering::SeqCst);
        Reply::Cut { declared: layer.len(), body: layer[..layer.len() / 2].to_vec() }
    });
    let msg = err.fails();
    assert!(
        msg.contains("connection") || msg.contains("interrupted") || msg.contains("error decoding"),
        "{msg}"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "retried from scratch");
    assert_nothing_stored(&g);
}

#[test]
fn a_registry_that_goes_silent_times_out_and_is_retried() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let g = Gantry::new();
    g.set_config("registry_read_timeout = 1\n");
    let started = std::time::Instant::now();
    let (g, err) = pull_with_evil_layer_in(g, "evil/silent", move |layer| {
        seen.fetch_add(1, Ordering::SeqCst);
        let body = layer[..layer.len() / 2].to_vec();
        Reply::Stall { declared: layer.len(), body, silence: Duration::from_secs(20) }
    });
    assert!(err.fails().contains("connection failed 3 times"), "{}", err.stderr);
    assert!(started.elapsed() < Duration::from_secs(15), "each attempt gave up after ~1 s of silence");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_nothing_stored(&g);
}

#[test]
fn a_cut_connection_that_recovers_succeeds() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let (g, out) = pull_with_evil_layer("flaky/image", move |layer| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::Cut { declared: layer.len(), body: layer[..1000].to_vec() };
        }
        Reply::ok("application/octet-stream", layer.to_vec())
    });
    out.ok();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
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

/// Bytes that do not compress (a fixed pseudo-random sequence).
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn the_image_budgets_bound_all_layers_together() {
    // Each layer is within the per-layer limits; together they are not.
    let img = Image::new(&[tar_of(&[("a", &noise(150_000))]), tar_of(&[("b", &noise(150_000))])], None);
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    g.set_config("max_image_bytes = 250000\n");
    let err = g.run(&["pull", &format!("{}/evil/widebytes", s.host())]);
    assert!(err.fails().contains("image expands beyond the 250000-byte budget"), "{}", err.stderr);
    assert_nothing_stored(&g);

    let files: Vec<(String, Vec<u8>)> = (0..3).map(|i| (format!("f{i}"), vec![b'x'])).collect();
    let entries: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    let img = Image::new(&[tar_of(&entries), tar_of(&entries)], None);
    let s = Server::start(move |r| img.reply(r));
    g.set_config("max_image_entries = 4\n");
    let err = g.run(&["pull", &format!("{}/evil/wideentries", s.host())]);
    assert!(err.fails().contains("more than the 4-entry budget"), "{}", err.stderr);
    assert_nothing_stored(&g);
}

#[test]
fn a_retried_layer_does_not_count_twice_against_the_image_budget() {
    // The first attempt expands about half the layer before the connection drops; if those
    // bytes stayed counted, the retry would exceed a budget the image fits in.
    let tar = tar_of(&[("noise", &noise(300_000))]);
    let img = Image::new(std::slice::from_ref(&tar), None);
    let layer = img.layers[0].clone();
    let cut = Arc::new(AtomicUsize::new(0));
    let seen = cut.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.ends_with(&sha256(&layer)) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::Cut { declared: layer.len(), body: layer[..layer.len() * 3 / 4].to_vec() };
        }
        img.reply(r)
    });
    let g = Gantry::new();
    g.set_config(&format!("max_image_bytes = {}\n", tar.len() + tar.len() / 4));
    g.run(&["pull", &format!("{}/flaky/budget", s.host())]).ok();
    assert_eq!(cut.load(Ordering::SeqCst), 2, "cut once, then served whole");
    assert_eq!(g.entries("layers").len(), 1);
    g.assert_clean_scratch();
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
