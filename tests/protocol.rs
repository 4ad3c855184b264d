//! Parts of the distribution protocol the rig's registry cannot show, served by the in-test
//! registry: Docker manifest lists, uncompressed layers, catalog and tag pagination through
//! `Link` headers, and the limit on layers downloaded at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::Gantry;
use common::http::{Format, Image, Reply, Request, Server, blob_unknown, sha256, tar_of};

fn image_arch(g: &Gantry, name: &str) -> String {
    let out = g.run(&["image", "inspect", name]);
    let v: serde_json::Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v[0]["Architecture"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_docker_manifest_list_yields_the_requested_platform() {
    let docker = |arch| Format { docker: true, arch, ..Format::default() };
    let images: Vec<Image> = ["amd64", "arm64"]
        .into_iter()
        .map(|arch| Image::build(&[tar_of(&[("arch", arch.as_bytes())])], None, docker(arch)))
        .collect();
    let entries: Vec<serde_json::Value> = images
        .iter()
        .zip(["amd64", "arm64"])
        .map(|(i, arch)| {
            serde_json::json!({
                "mediaType": i.manifest_type,
                "digest": sha256(&i.manifest),
                "size": i.manifest.len(),
                "platform": {"architecture": arch, "os": "linux"}
            })
        })
        .collect();
    let list = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": entries
    })
    .to_string()
    .into_bytes();
    let s = Server::start(move |r: &Request| {
        if r.path == "/v2/" {
            return Reply::ok("application/json", b"{}".to_vec());
        }
        if r.path.ends_with("/manifests/latest") {
            return Reply::ok("application/vnd.docker.distribution.manifest.list.v2+json", list.clone());
        }
        images.iter().find_map(|i| i.serve(r, false)).unwrap_or_else(blob_unknown)
    });
    let g = Gantry::new();
    let name = format!("{}/multi/list", s.host());
    g.run(&["pull", "--platform", "linux/arm64", &name]).ok();
    assert_eq!(image_arch(&g, &name), "arm64");
    g.run(&["pull", "--platform", "linux/amd64", &name]).ok();
    assert_eq!(image_arch(&g, &name), "amd64");
    let err = g.run(&["pull", "--platform", "linux/s390x", &name]);
    assert!(err.fails().contains("s390x"), "names the missing platform: {}", err.stderr);
}

#[test]
fn an_uncompressed_layer_is_pulled() {
    let plain = Format { gzip: false, ..Format::default() };
    let img = Image::build(&[tar_of(&[("plain.txt", b"not compressed")])], None, plain);
    let s = Server::start(move |r| img.reply(r));
    let g = Gantry::new();
    g.run(&["pull", &format!("{}/plain/layer", s.host())]).ok();
    let layers = g.entries("layers");
    assert_eq!(layers.len(), 1);
    let file = g.root().join("layers").join(&layers[0]).join("diff/plain.txt");
    assert_eq!(std::fs::read(&file).expect("extracted file"), b"not compressed");
}

/// A registry whose listings come two entries a page, linked by `Link` headers as the
/// distribution spec describes (whatever `n` the client asked for).
fn paged(all: &'static [&'static str], key: &'static str, path: &str, req: &Request) -> Reply {
    let last = req.path.split("last=").nth(1).map(|l| l.split('&').next().unwrap_or(l));
    let start = last.and_then(|l| all.iter().position(|x| *x == l)).map_or(0, |i| i + 1);
    let page = &all[start.min(all.len())..(start + 2).min(all.len())];
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if start + 2 < all.len() {
        headers.push(("Link".into(), format!("<{path}?last={}&n=2>; rel=\"next\"", page[1])));
    }
    let body = serde_json::json!({ key: page, "name": "paged/repo" }).to_string().into_bytes();
    Reply::Full { status: 200, headers, body }
}

#[test]
fn catalog_and_tags_follow_pagination_links() {
    const REPOS: &[&str] = &["r1", "r2", "r3", "r4", "r5"];
    const TAGS: &[&str] = &["t1", "t2", "t3"];
    let s = Server::start(|r: &Request| match r.path.split('?').next().unwrap_or("") {
        "/v2/" => Reply::ok("application/json", b"{}".to_vec()),
        "/v2/_catalog" => paged(REPOS, "repositories", "/v2/_catalog", r),
        "/v2/paged/repo/tags/list" => paged(TAGS, "tags", "/v2/paged/repo/tags/list", r),
        _ => blob_unknown(),
    });
    let g = Gantry::new();
    let repos = g.run(&["registry", "repos", &s.host()]);
    for r in REPOS {
        assert!(repos.ok().lines().any(|l| l.contains(r)), "{r} in {}", repos.stdout);
    }
    let tags = g.run(&["registry", "tags", &format!("{}/paged/repo", s.host())]);
    for t in TAGS {
        assert!(tags.ok().lines().any(|l| l.contains(t)), "{t} in {}", tags.stdout);
    }
    let asked: Vec<String> =
        s.requests().into_iter().map(|r| r.path).filter(|p| p.contains("last=")).collect();
    assert!(asked.iter().any(|p| p.starts_with("/v2/_catalog") && p.contains("last=r4")), "{asked:?}");
    assert!(asked.iter().any(|p| p.contains("/tags/list") && p.contains("last=t2")), "{asked:?}");
}

#[test]
fn layers_download_at_most_max_concurrent_downloads_at_once() {
    let tars: Vec<Vec<u8>> = (0..5).map(|i| tar_of(&[("n", format!("layer {i}").as_bytes())])).collect();
    let img = Arc::new(Image::new(&tars, None));
    for (limit, name) in [(2usize, "two"), (3, "default")] {
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (img2, now2, peak2) = (img.clone(), now.clone(), peak.clone());
        let s = Server::start(move |r: &Request| {
            let is_layer = img2.layers.iter().any(|l| r.path.ends_with(&sha256(l)));
            if !is_layer {
                return img2.reply(r);
            }
            let n = now2.fetch_add(1, Ordering::SeqCst) + 1;
            peak2.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            now2.fetch_sub(1, Ordering::SeqCst);
            img2.reply(r)
        });
        let g = Gantry::new();
        if name == "two" {
            g.set_config("max_concurrent_downloads = 2\n");
        }
        g.run(&["pull", &format!("{}/slow/{name}", s.host())]).ok();
        assert_eq!(peak.load(Ordering::SeqCst), limit, "{name}: at most {limit} at once, and that many used");
        assert_eq!(g.entries("layers").len(), 5);
    }
}
