//! The reference grammar's table test and accessor tests.
use super::*;

const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn dg() -> String {
    format!("sha256:{HEX}")
}

/// Expected outcome of one table row.
enum Want {
    Ok {
        registry: &'static str,
        repository: String,
        tag: Option<String>,
        digest: Option<String>,
        familiar: String,
    },
    Err(&'static str),
}

struct Row {
    input: String,
    want: Want,
}

fn ok(
    input: impl Into<String>,
    registry: &'static str,
    repository: impl Into<String>,
    tag: Option<&str>,
    digest: Option<String>,
    familiar: impl Into<String>,
) -> Row {
    Row {
        input: input.into(),
        want: Want::Ok {
            registry,
            repository: repository.into(),
            tag: tag.map(String::from),
            digest,
            familiar: familiar.into(),
        },
    }
}

fn bad(input: impl Into<String>, substring: &'static str) -> Row {
    Row { input: input.into(), want: Want::Err(substring) }
}

const HUB: &str = "docker.io";
const FMT: &str = "invalid reference format";
const LATEST: Option<&str> = Some("latest");

fn table() -> Vec<Row> {
    let d = dg();
    let tag128 = format!("v{}", "1".repeat(127));
    let path255 = format!("u/{}", "a".repeat(253));
    vec![
        // Docker Hub normalization.
        ok("busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
        ok("busybox:1.36", HUB, "library/busybox", Some("1.36"), None, "busybox:1.36"),
        ok("library/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
        ok("docker.io/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
        ok("docker.io/library/busybox:musl", HUB, "library/busybox", Some("musl"), None, "busybox:musl"),
        ok("index.docker.io/library/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
        ok("index.docker.io/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
        ok("index.docker.io/user/app:v1", HUB, "user/app", Some("v1"), None, "user/app:v1"),
        ok("user/repo", HUB, "user/repo", LATEST, None, "user/repo:latest"),
        ok("user/repo:v2", HUB, "user/repo", Some("v2"), None, "user/repo:v2"),
        ok("docker.io/library/foo/bar", HUB, "library/foo/bar", LATEST, None, "library/foo/bar:latest"),
        ok("store/foo/bar", HUB, "store/foo/bar", LATEST, None, "store/foo/bar:latest"),
        ok("test_com/foo", HUB, "test_com/foo", LATEST, None, "test_com/foo:latest"),
        ok("0/1", HUB, "0/1", LATEST, None, "0/1:latest"),
        // A lone component is never a registry.
        ok("localhost", HUB, "library/localhost", LATEST, None, "localhost:latest"),
        ok("localhost:5000", HUB, "library/localhost", Some("5000"), None, "localhost:5000"),
        ok("192.168.0.1", HUB, "library/192.168.0.1", LATEST, None, "192.168.0.1:latest"),
        ok("192.168.0.1:80", HUB, "library/192.168.0.1", Some("80"), None, "192.168.0.1:80"),
        // Other registries.
        ok("localhost/x", "localhost", "x", LATEST, None, "localhost/x:latest"),
        ok("localhost:5000/x:tag", "localhost:5000", "x", Some("tag"), None, "localhost:5000/x:tag"),
        ok(
            "127.0.0.1:5000/fixtures/busybox:oci",
            "127.0.0.1:5000",
            "fixtures/busybox",
            Some("oci"),
            None,
            "127.0.0.1:5000/fixtures/busybox:oci",
        ),
        ok("[::1]:5000/a", "[::1]:5000", "a", LATEST, None, "[::1]:5000/a:latest"),
        ok("[fc00::1]/x", "[fc00::1]", "x", LATEST, None, "[fc00::1]/x:latest"),
        ok("a.b.c/d/e/f", "a.b.c", "d/e/f", LATEST, None, "a.b.c/d/e/f:latest"),
        ok("ghcr.io/a/b/c/d/e:1", "ghcr.io", "a/b/c/d/e", Some("1"), None, "ghcr.io/a/b/c/d/e:1"),
        ok(
            "example.com:8000/private/moonbase",
            "example.com:8000",
            "private/moonbase",
            LATEST,
            None,
            "example.com:8000/private/moonbase:latest",
        ),
        ok("xn--n3h.com/foo", "xn--n3h.com", "foo", LATEST, None, "xn--n3h.com/foo:latest"),
        ok("test-com:8080/foo", "test-com:8080", "foo", LATEST, None, "test-com:8080/foo:latest"),
        ok("foo:5000/bar", "foo:5000", "bar", LATEST, None, "foo:5000/bar:latest"),
        // Hosts may be uppercase; an uppercase first component is a host, as in Docker.
        ok(
            "Registry.Example.COM:443/team/app",
            "Registry.Example.COM:443",
            "team/app",
            LATEST,
            None,
            "Registry.Example.COM:443/team/app:latest",
        ),
        ok("Docker/docker", "Docker", "docker", LATEST, None, "Docker/docker:latest"),
        ok("DOCKER.IO/busybox", "DOCKER.IO", "busybox", LATEST, None, "DOCKER.IO/busybox:latest"),
        // Digests; TagNameOnly adds no tag to a digested reference.
        ok(
            format!("quay.io/org/app@{d}"),
            "quay.io",
            "org/app",
            None,
            Some(d.clone()),
            format!("quay.io/org/app@{d}"),
        ),
        ok(format!("busybox@{d}"), HUB, "library/busybox", None, Some(d.clone()), format!("busybox@{d}")),
        ok(
            format!("busybox:1.36@{d}"),
            HUB,
            "library/busybox",
            Some("1.36"),
            Some(d.clone()),
            format!("busybox:1.36@{d}"),
        ),
        ok(
            format!("localhost:5000/a/b@{d}"),
            "localhost:5000",
            "a/b",
            None,
            Some(d.clone()),
            format!("localhost:5000/a/b@{d}"),
        ),
        // Separators.
        ok("a_b", HUB, "library/a_b", LATEST, None, "a_b:latest"),
        ok("a__b", HUB, "library/a__b", LATEST, None, "a__b:latest"),
        ok("a---b", HUB, "library/a---b", LATEST, None, "a---b:latest"),
        ok("a.b", HUB, "library/a.b", LATEST, None, "a.b:latest"),
        ok("user/a-b.c_d__e", HUB, "user/a-b.c_d__e", LATEST, None, "user/a-b.c_d__e:latest"),
        // Tags.
        ok("busybox:_x", HUB, "library/busybox", Some("_x"), None, "busybox:_x"),
        ok("busybox:V1.2-rc_3", HUB, "library/busybox", Some("V1.2-rc_3"), None, "busybox:V1.2-rc_3"),
        ok(
            format!("busybox:{tag128}"),
            HUB,
            "library/busybox",
            Some(&tag128),
            None,
            format!("busybox:{tag128}"),
        ),
        // Hex is only refused as a whole, untagged, unqualified name.
        ok(format!("{HEX}:v1"), HUB, format!("library/{HEX}"), Some("v1"), None, format!("{HEX}:v1")),
        ok(format!("docker.io/{HEX}"), HUB, format!("library/{HEX}"), LATEST, None, format!("{HEX}:latest")),
        ok(
            &HEX[..63],
            HUB,
            format!("library/{}", &HEX[..63]),
            LATEST,
            None,
            format!("{}:latest", &HEX[..63]),
        ),
        // The 255 limit is on the path; the host does not count (distribution/reference v0.6).
        ok(path255.clone(), HUB, path255.clone(), LATEST, None, format!("{path255}:latest")),
        ok(
            format!("registry.example.com/{path255}"),
            "registry.example.com",
            path255.clone(),
            LATEST,
            None,
            format!("registry.example.com/{path255}:latest"),
        ),
        // Malformed input.
        bad("", FMT),
        bad(":", FMT),
        bad("@", FMT),
        bad("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
        bad("bUSYBOX:latest", "must be lowercase"),
        bad("docker/Docker", "repository name (docker/Docker) must be lowercase"),
        bad("docker.io/docker/Docker", "must be lowercase"),
        bad("localhost:5000/Foo", "repository name (Foo) must be lowercase"),
        bad("busybox:", "missing tag"),
        bad("busybox@", "missing digest"),
        bad("busybox:tag@", "missing digest"),
        bad("busybox:tag!", FMT),
        bad("busybox:-tag", FMT),
        bad("busybox:.tag", FMT),
        bad(format!("busybox:{tag128}x"), "longer than 128"),
        bad("busybox:latest:extra", FMT),
        bad("x/y:tag/z", FMT),
        bad("a//b", "empty path component"),
        bad("docker///docker", "empty path component"),
        bad("/a", "empty path component"),
        bad("a/", "empty path component"),
        bad("localhost/", "empty path component"),
        bad("-a", "start and end"),
        bad("a-", "start and end"),
        bad("-docker/docker", "start and end"),
        bad("_docker/_docker", "start and end"),
        bad("____/____", "start and end"),
        bad("a..b", "invalid separator"),
        bad("a___b", "invalid separator"),
        bad("u/dock_.er", "invalid separator"),
        bad("u/dock-.er", "invalid separator"),
        bad("dock_.er/docker", "invalid registry host"),
        bad("a b", FMT),
        bad(" busybox", FMT),
        bad("busybox ", FMT),
        bad("ubuntu\n", FMT),
        bad("héllo", FMT),
        bad(HEX, "cannot specify 64-byte hexadecimal strings"),
        bad(format!("busybox@sha512:{HEX}{HEX}"), "unsupported digest algorithm \"sha512\""),
        bad(format!("busybox@md5:{}", &HEX[..32]), "unsupported digest algorithm"),
        bad("busybox@sha256:abc", FMT),
        bad(format!("busybox@sha256:{}", &HEX[..40]), "invalid checksum digest"),
        bad(format!("busybox@sha256:{}", HEX.to_uppercase()), "invalid checksum digest"),
        bad(format!("busybox@sha256:{HEX}@{d}"), FMT),
        bad(format!("busybox@{HEX}"), "algorithm:hex"),
        bad(format!("busybox@-sha256:{HEX}"), "invalid digest algorithm"),
        bad("a".repeat(256), "must not be more than 255 characters"),
        bad(format!("u/{}", "a".repeat(254)), "must not be more than 255 characters"),
        bad("https://github.com/docker/docker", "invalid registry host"),
        bad("[fc00::1]", FMT),
        bad("[fc00::1]:5000", FMT),
        bad("fc00::1:5000/debian", "invalid registry host"),
        bad("[fe80::1%eth0]:5000/debian", "invalid registry host"),
        bad("[]:5000/x", "invalid registry host"),
        bad("a_b.c/x", "invalid registry host"),
        bad("-host.com/x", "invalid registry host"),
        bad("host.com:port/x", "invalid registry host"),
        bad("host.com:/x", "invalid registry host"),
        bad("host..com/x", "invalid registry host"),
    ]
}

#[test]
fn reference_table() {
    let rows = table();
    assert!(rows.len() >= 60, "only {} rows", rows.len());
    for Row { input, want } in rows {
        let got = Reference::parse(&input);
        match want {
            Want::Ok { registry, repository, tag, digest, familiar } => {
                let r = got.unwrap_or_else(|e| panic!("{input:?} rejected: {e}"));
                assert_eq!(r.registry(), registry, "registry of {input:?}");
                assert_eq!(r.repository(), repository, "repository of {input:?}");
                assert_eq!(r.tag(), tag.as_deref(), "tag of {input:?}");
                assert_eq!(r.digest().map(|d| d.to_string()), digest, "digest of {input:?}");
                assert_eq!(r.familiar(), familiar, "familiar of {input:?}");
                // Both printed forms must parse back to the same reference.
                assert_eq!(Reference::parse(&r.to_string()).as_ref(), Ok(&r), "display of {input:?}");
                assert_eq!(Reference::parse(&r.familiar()).as_ref(), Ok(&r), "familiar of {input:?}");
            }
            Want::Err(substring) => {
                let e = match got {
                    Ok(r) => panic!("{input:?} accepted as {r}"),
                    Err(e) => e.to_string(),
                };
                assert!(e.contains(substring), "{input:?}: {e:?} lacks {substring:?}");
                let quoted = format!("{input:?}");
                assert!(e.contains(&input) || e.contains(&quoted), "{e:?} does not name {input:?}");
            }
        }
    }
}

#[test]
fn accessors_and_display() {
    let r = Reference::parse("busybox").unwrap();
    assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
    assert_eq!(r.name(), "docker.io/library/busybox");
    assert_eq!(r.familiar_name(), "busybox");
    assert_eq!(r.api_host(), "registry-1.docker.io");
    assert!(!r.is_loopback_registry());

    let r: Reference = "localhost:5000/x/y:t".parse().unwrap();
    assert_eq!(r.api_host(), "localhost:5000");
    assert_eq!(r.familiar_name(), "localhost:5000/x/y");
    assert!(r.is_loopback_registry());
    assert!(Reference::parse("[::1]:5000/a").unwrap().is_loopback_registry());
    assert!(Reference::parse("127.1.2.3/a").unwrap().is_loopback_registry());
    assert!(!Reference::parse("quay.io/a").unwrap().is_loopback_registry());
}

#[test]
fn with_tag_and_digest() {
    let d = Digest::parse(&dg()).unwrap();
    let r = Reference::parse("quay.io/org/app:1").unwrap();

    let pinned = r.with_digest(d.clone());
    assert_eq!(pinned.tag(), None);
    assert_eq!(pinned.digest(), Some(&d));
    assert_eq!(pinned.to_string(), format!("quay.io/org/app@{d}"));

    let retagged = pinned.with_tag("2").unwrap();
    assert_eq!(retagged.tag(), Some("2"));
    assert_eq!(retagged.digest(), None);
    assert_eq!(retagged.familiar(), "quay.io/org/app:2");

    for bad in ["", "-x", ".x", "a:b", "a/b", "a b", &"x".repeat(129)] {
        let e = r.with_tag(bad).unwrap_err();
        assert_eq!(e, ReferenceError::Tag { tag: bad.to_string() });
        assert!(e.to_string().starts_with("invalid tag format"));
    }
}

#[test]
fn repository_filter() {
    let repo = parse_repository;
    assert_eq!(repo("busybox"), Ok(("docker.io".into(), "library/busybox".into())));
    assert_eq!(repo("index.docker.io/u/a"), Ok(("docker.io".into(), "u/a".into())));
    assert_eq!(repo("localhost:5000/x"), Ok(("localhost:5000".into(), "x".into())));
    assert!(matches!(repo("busybox:1"), Err(ReferenceError::NotRepository { .. })));
    assert!(matches!(repo(&format!("busybox@{}", dg())), Err(ReferenceError::NotRepository { .. })));
    assert!(matches!(repo("Busybox"), Err(ReferenceError::Uppercase { .. })));
    assert!(matches!(repo(HEX), Err(ReferenceError::HexName(_))));
}

#[test]
fn id_prefixes() {
    for yes in ["e", "e3b0c4", HEX, &dg(), "sha256:e3b0"] {
        assert!(looks_like_id_prefix(yes), "{yes:?}");
    }
    for no in ["", "sha256:", "busybox", "E3B0", "e3b0:latest", "g", &format!("{HEX}0")] {
        assert!(!looks_like_id_prefix(no), "{no:?}");
    }
}

#[test]
fn loopback_hosts() {
    for yes in ["localhost", "LocalHost:5000", "127.0.0.1", "127.9.9.9:80", "[::1]", "[::1]:5000", "::1"] {
        assert!(is_loopback_host(yes), "{yes:?}");
    }
    for no in ["docker.io", "10.0.0.1:5000", "[fc00::1]:5000", "localhost.example.com", "128.0.0.1", "[::1"] {
        assert!(!is_loopback_host(no), "{no:?}");
    }
}

#[test]
fn serde_round_trip() {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    let de: StrDeserializer<'_, Error> = "busybox:1".into_deserializer();
    let r = Reference::deserialize(de).unwrap();
    assert_eq!(r.to_string(), "docker.io/library/busybox:1");
    let de: StrDeserializer<'_, Error> = "Busybox".into_deserializer();
    assert!(Reference::deserialize(de).is_err());
}
