//! Registry authentication and TLS against the rig's htpasswd registry behind a self-signed CA:
//! certs.d trust, Basic auth, `login`/`logout` and the credentials file; plus `search` and
//! `registry repos|tags`.

mod common;

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use common::{Gantry, rig};

fn trusting(g: &Gantry) {
    let r = rig();
    g.set_config(&format!("certs_dir = {:?}\n", r.certs_dir));
}

#[test]
fn untrusted_certificate_is_explained() {
    let r = rig();
    let g = Gantry::new();
    let out = g.run(&["pull", &format!("{}/private/busybox", r.auth_registry)]);
    let err = out.fails();
    assert!(err.contains("TLS certificate of") && err.contains("is not trusted"), "{err}");
    assert!(err.contains(&format!("{}/ca.crt", r.auth_registry)), "tells where the CA goes: {err}");
}

#[test]
fn login_pull_logout_round_trip() {
    let r = rig();
    let g = Gantry::new();
    trusting(&g);
    let image = format!("{}/private/busybox", r.auth_registry);
    let anon = g.run(&["pull", &image]);
    let err = anon.fails();
    assert!(err.contains("unauthorized"), "{err}");
    assert!(err.contains(&format!("gantry login {}", r.auth_registry)), "{err}");

    let wrong = g.run(&["login", "-u", &r.user, "-p", "wrong-password", &r.auth_registry]);
    assert!(wrong.fails().contains("incorrect username or password"), "{}", wrong.stderr);
    let config = g.docker_config_dir().join("config.json");
    assert!(!config.exists(), "nothing stored after a refused login");

    let ok = g.run(&["login", "-u", &r.user, "-p", &r.pass, &r.auth_registry]);
    assert_eq!(ok.ok(), "Login Succeeded\n");
    assert!(ok.stderr.contains("WARNING! Using --password via the CLI is insecure"));
    let meta = std::fs::metadata(&config).expect("config.json written");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let auth = v["auths"][&r.auth_registry]["auth"].as_str().expect("auth entry");
    let decoded = base64::engine::general_purpose::STANDARD.decode(auth).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), format!("{}:{}", r.user, r.pass));

    let pulled = g.run(&["pull", &image]);
    assert!(pulled.ok().contains("Downloaded newer image"), "{}", pulled.stdout);
    let repos = g.run(&["registry", "repos", &r.auth_registry]);
    assert!(repos.ok().contains(&format!("{}/private/busybox", r.auth_registry)), "{}", repos.stdout);

    let out = g.run(&["logout", &r.auth_registry]);
    assert_eq!(out.ok(), format!("Removing login credentials for {}\n", r.auth_registry));
    let again = g.run(&["logout", &r.auth_registry]);
    assert_eq!(again.ok(), format!("Not logged in to {}\n", r.auth_registry));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    assert!(v["auths"].get(&r.auth_registry).is_none());
    assert!(g.run(&["pull", &format!("{image}:nope")]).fails().contains("unauthorized"));
}

#[test]
fn password_stdin_and_non_tty_rules() {
    let r = rig();
    let g = Gantry::new();
    trusting(&g);
    let ok = g.run_with_input(
        &["login", "-u", &r.user, "--password-stdin", &r.auth_registry],
        &format!("{}\n", r.pass),
    );
    assert_eq!(ok.ok(), "Login Succeeded\n");
    let no_user = g.run_with_input(&["login", "--password-stdin", &r.auth_registry], "x\n");
    assert!(no_user.fails().contains("Must provide --username with --password-stdin"));
    let no_tty = g.run(&["login", &r.auth_registry]);
    assert!(
        no_tty.fails().contains("Cannot perform an interactive login from a non TTY device"),
        "{}",
        no_tty.stderr
    );
}

#[test]
fn search_and_registry_browsing() {
    let r = rig();
    let g = Gantry::new();
    let out = g.run(&["search", &format!("{}/busy", r.registry)]);
    let text = out.ok();
    assert!(text.starts_with("NAME"), "{text}");
    for repo in ["busybox", "fixtures/busybox", "library/busybox"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{}/{repo} ", r.registry))), "{repo} in {text}");
    }
    assert!(!text.contains("layered"));

    let repos = g.run(&["registry", "repos", &r.registry]);
    let list: Vec<&str> = repos.ok().lines().collect();
    for repo in ["fixtures/busybox", "fixtures/layered", "fixtures/multiarch", "fixtures/web"] {
        assert!(list.contains(&format!("{}/{repo}", r.registry).as_str()), "{repo} in {list:?}");
    }
    // Catalog pagination: two entries per page must still list everything.
    let limited = g.run(&["registry", "repos", "--limit", "2", &r.registry]);
    assert_eq!(limited.ok().lines().count(), 2);

    let tags = g.run(&["registry", "tags", &format!("{}/fixtures/busybox", r.registry)]);
    let tags: Vec<&str> = tags.ok().lines().collect();
    for t in ["latest", "oci", "v2s2", "zstd", "t01", "t05"] {
        assert!(tags.contains(&t), "{t} in {tags:?}");
    }
    let details = g.run(&["registry", "tags", "--details", &format!("{}/fixtures/multiarch", r.registry)]);
    let text = details.ok();
    assert!(text.starts_with("TAG"), "{text}");
    let row = text.lines().nth(1).expect("a tag row");
    assert!(
        row.starts_with("latest") && row.contains("sha256:") && row.contains("linux/amd64,linux/arm64"),
        "{row}"
    );
    assert!(row.trim_end().ends_with("MB") || row.trim_end().ends_with("kB"), "{row}");
    let missing = g.run(&["registry", "tags", &format!("{}/nope/nope", r.registry)]);
    assert!(missing.fails().contains("repository name not known to registry"), "{}", missing.stderr);
}
