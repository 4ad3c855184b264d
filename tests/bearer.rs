//! The Bearer token flow of the distribution spec against an in-test registry and token server:
//! anonymous tokens (Docker Hub style), credentialed tokens, scope and service parameters,
//! token size cap, retries after 5xx, and foreign-layer URLs that must never be followed.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::Gantry;
use common::http::{Image, Reply, Request, Server, sha256, tar_of};

const TOKEN: &str = "tok-123";

fn image() -> Image {
    Image::new(&[tar_of(&[("f", b"data")])], None)
}

/// A token server that requires `user:pass` when `creds` is set, recording each request.
fn token_server(creds: Option<&'static str>, body: Option<String>) -> (Server, Arc<Mutex<Vec<Request>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let s = Server::start(move |r: &Request| {
        log.lock().unwrap().push(r.clone());
        if let Some(c) = creds {
            let want = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(c));
            if r.header("authorization") != Some(want.as_str()) {
                return Reply::status(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
            }
        }
        let body =
            body.clone().unwrap_or_else(|| format!(r#"{{"access_token":"{TOKEN}","expires_in":300}}"#));
        Reply::ok("application/json", body.into_bytes())
    });
    (s, seen)
}

/// A registry that demands a bearer token from `realm`.
fn registry(realm: String, img: Image) -> Server {
    Server::start(move |r: &Request| {
        if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            let scope = r.path.split('/').nth(2).map(|_| {
                let repo: Vec<&str> = r
                    .path
                    .trim_start_matches("/v2/")
                    .split("/manifests/")
                    .next()
                    .unwrap()
                    .split("/blobs/")
                    .collect();
                format!(",scope=\"repository:{}:pull\"", repo[0])
            });
            let challenge = format!(
                "Bearer realm=\"{realm}\",service=\"test-registry\"{}",
                if r.path == "/v2/" { String::new() } else { scope.unwrap_or_default() }
            );
            return Reply::Full {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), challenge)],
                body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.to_vec(),
            };
        }
        img.reply(r)
    })
}

#[test]
fn anonymous_bearer_token() {
    let (ts, seen) = token_server(None, None);
    let reg = registry(format!("http://{}/token", ts.host()), image());
    let g = Gantry::new();
    let out = g.run(&["pull", &format!("{}/team/app", reg.host())]);
    assert!(out.ok().contains("Downloaded newer image"), "{}", out.stdout);
    let reqs = seen.lock().unwrap().clone();
    assert!(!reqs.is_empty());
    let q = &reqs[0].path;
    assert!(q.contains("service=test-registry") && q.contains("scope=repository%3Ateam%2Fapp%3Apull"), "{q}");
    assert!(
        reqs.iter().all(|r| r.header("authorization").is_none()),
        "anonymous requests carry no credentials"
    );
    // One token serves the whole pull (manifest, config and layer).
    assert_eq!(reqs.len(), 1, "token cached: {reqs:?}");
}

#[test]
fn credentialed_bearer_token_and_login() {
    let (ts, seen) = token_server(Some("alice:s3cret"), None);
    let reg = registry(format!("http://{}/token", ts.host()), image());
    let g = Gantry::new();
    let anon = g.run(&["pull", &format!("{}/team/app", reg.host())]);
    assert!(anon.fails().contains("unauthorized"), "{}", anon.stderr);
    let wrong = g.run(&["login", "-u", "alice", "-p", "nope", &reg.host()]);
    assert!(wrong.fails().contains("incorrect username or password"), "{}", wrong.stderr);
    let ok = g.run(&["login", "-u", "alice", "-p", "s3cret", &reg.host()]);
    assert_eq!(ok.ok(), "Login Succeeded\n");
    g.run(&["pull", &format!("{}/team/app", reg.host())]).ok();
    let reqs = seen.lock().unwrap().clone();
    assert!(reqs.iter().any(|r| r.path.contains("account=alice")), "{reqs:?}");
}

#[test]
fn oversized_token_is_refused() {
    let huge = format!(r#"{{"token":"{}"}}"#, "x".repeat(2 << 20));
    let (ts, _) = token_server(None, Some(huge));
    let reg = registry(format!("http://{}/token", ts.host()), image());
    let g = Gantry::new();
    let err = g.run(&["pull", &format!("{}/team/app", reg.host())]);
    assert!(
        err.fails().contains("token from") && err.stderr.contains("larger than the 1048576-byte limit"),
        "{}",
        err.stderr
    );
}

#[test]
fn server_errors_are_retried() {
    let img = image();
    let failures = Arc::new(AtomicUsize::new(0));
    let count = failures.clone();
    let s = Server::start(move |r: &Request| {
        if r.path.contains("/manifests/") && count.fetch_add(1, Ordering::SeqCst) < 2 {
            return Reply::status(503, r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#);
        }
        img.reply(r)
    });
    let g = Gantry::new();
    g.run(&["pull", &format!("{}/flaky/app", s.host())]).ok();
    assert_eq!(failures.load(Ordering::SeqCst), 3, "two 503s, then success");
}

#[test]
fn foreign_layer_urls_are_ignored() {
    let img = image();
    // A decoy server that must never be contacted.
    let decoy = Server::start(|_r: &Request| Reply::status(500, "{}"));
    let layer_digest = sha256(&img.layers[0]);
    let mut manifest: serde_json::Value = serde_json::from_slice(&img.manifest).unwrap();
    manifest["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip".into();
    manifest["layers"][0]["urls"] =
        serde_json::json!([format!("http://{}/evil/{layer_digest}", decoy.host())]);
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let s = Server::start(move |r: &Request| {
        if r.path.contains("/manifests/") {
            return Reply::ok("application/vnd.oci.image.manifest.v1+json", manifest.clone());
        }
        img.reply(r)
    });
    let g = Gantry::new();
    g.run(&["pull", &format!("{}/foreign/app", s.host())]).ok();
    assert!(decoy.requests().is_empty(), "foreign URL was followed");
    assert!(s.requests().iter().any(|r| r.path.ends_with(&layer_digest)), "layer came from the registry");
}
