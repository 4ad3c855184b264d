//! A tiny HTTP/1.1 server for hostile-registry tests: it serves exactly what a test tells it to,
//! including wrong digests, oversized documents and connections cut mid-body. Loopback only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announces `declared` bytes, sends `body`, then closes the connection.
    Cut {
        declared: usize,
        body: Vec<u8>,
    },
    /// Announces `declared` bytes, sends `body`, then goes silent for `silence`.
    Stall {
        declared: usize,
        body: Vec<u8>,
        silence: Duration,
    },
}

impl Reply {
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        Self::Full { status: 200, headers: vec![("Content-Type".into(), content_type.into())], body }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self::Full {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Starts serving on 127.0.0.1 with a fresh port. Threads live until the test process ends.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let log2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let log = log2.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &*handler, &log);
                });
            }
        });
        Self { addr, log }
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn serve(
    stream: TcpStream,
    handler: &dyn Fn(&Request) -> Reply,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        let req = Request { method, path, headers };
        if let Ok(mut l) = log.lock() {
            l.push(req.clone());
        }
        match handler(&req) {
            Reply::Full { status, headers, body } => {
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                writer.write_all(head.as_bytes())?;
                if req.method != "HEAD" {
                    writer.write_all(&body)?;
                }
                writer.flush()?;
            }
            Reply::Cut { declared, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n"
                );
                writer.write_all(head.as_bytes())?;
                writer.write_all(&body)?;
                writer.flush()?;
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            Reply::Stall { declared, body, silence } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n"
                );
                writer.write_all(head.as_bytes())?;
                writer.write_all(&body)?;
                writer.flush()?;
                std::thread::sleep(silence);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
        }
    }
}

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A tar with the given regular files (mode 0644, root-owned).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_path(name).expect("path");
        h.set_cksum();
        b.append(&h, *data).expect("append");
    }
    b.into_inner().expect("tar")
}

/// How a test image is packaged.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// Gzipped layers (else plain tar).
    pub gzip: bool,
    /// Docker schema 2 media types (else OCI).
    pub docker: bool,
    pub arch: &'static str,
}

impl Default for Format {
    fn default() -> Self {
        Self { gzip: true, docker: false, arch: "amd64" }
    }
}

/// A complete single-platform image built in memory.
pub struct Image {
    pub manifest: Vec<u8>,
    pub manifest_type: &'static str,
    pub config: Vec<u8>,
    pub layers: Vec<Vec<u8>>,
}

impl Image {
    /// Builds an OCI image from uncompressed layer tars (gzipped here); `diff_ids` may be
    /// overridden to make a lying config.
    pub fn new(tars: &[Vec<u8>], diff_ids: Option<Vec<String>>) -> Self {
        Self::build(tars, diff_ids, Format::default())
    }

    pub fn build(tars: &[Vec<u8>], diff_ids: Option<Vec<String>>, format: Format) -> Self {
        let layers: Vec<Vec<u8>> =
            tars.iter().map(|t| if format.gzip { gzip(t) } else { t.clone() }).collect();
        let diff_ids = diff_ids.unwrap_or_else(|| tars.iter().map(|t| sha256(t)).collect());
        let config = serde_json::json!({
            "created": "2024-01-01T00:00:00Z",
            "architecture": format.arch,
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": []
        })
        .to_string()
        .into_bytes();
        let (manifest_type, config_type, layer_type) = match (format.docker, format.gzip) {
            (true, _) => (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
            (false, gz) => (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                if gz {
                    "application/vnd.oci.image.layer.v1.tar+gzip"
                } else {
                    "application/vnd.oci.image.layer.v1.tar"
                },
            ),
        };
        let layer_descs: Vec<serde_json::Value> = layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": layer_type, "digest": sha256(l), "size": l.len()}))
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": sha256(&config), "size": config.len()},
            "layers": layer_descs
        })
        .to_string()
        .into_bytes();
        Self { manifest, manifest_type, config, layers }
    }

    /// Serves this image's manifest, config or layers if `req` asks for one of them (by
    /// digest, or the manifest by any tag when `any_tag`).
    pub fn serve(&self, req: &Request, any_tag: bool) -> Option<Reply> {
        if let Some(r) = req.path.split("/manifests/").nth(1) {
            return (any_tag || r == sha256(&self.manifest))
                .then(|| Reply::ok(self.manifest_type, self.manifest.clone()));
        }
        let d = req.path.split("/blobs/").nth(1)?;
        if d == sha256(&self.config) {
            return Some(Reply::ok("application/octet-stream", self.config.clone()));
        }
        let l = self.layers.iter().find(|l| sha256(l) == d)?;
        Some(Reply::ok("application/octet-stream", l.clone()))
    }

    /// Serves this image at `/v2/<any repo>/...` like an anonymous registry.
    pub fn reply(&self, req: &Request) -> Reply {
        if req.path == "/v2/" {
            return Reply::ok("application/json", b"{}".to_vec());
        }
        self.serve(req, true).unwrap_or_else(blob_unknown)
    }
}

/// The registry's answer for anything it does not hold.
pub fn blob_unknown() -> Reply {
    Reply::status(404, r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#)
}
