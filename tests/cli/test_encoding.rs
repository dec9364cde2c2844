//! Compressed HTTP responses: decoded before storing, with the size limit on decoded bytes.

use std::io::Write as _;

use crate::common::{Reply, Server, TestEnv};

const TEXT: &str =
    "Per the new contract, ICE will continue to use Palantir\u{2019}s system until 2020.\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("zlib");
    e.finish().expect("zlib")
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("deflate");
    e.finish().expect("deflate")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
    w.write_all(bytes).expect("brotli");
    drop(w);
    out
}

fn encoded(encoding: &str, body: Vec<u8>) -> Reply {
    Reply::ok("text/plain; charset=utf-8", body).header("Content-Encoding", encoding)
}

#[test]
fn compressed_bodies_are_stored_decoded() {
    let server = Server::with(&[
        ("/gzip", encoded("gzip", gzip(TEXT.as_bytes()))),
        ("/br", encoded("br", brotli(TEXT.as_bytes()))),
        ("/zlib", encoded("deflate", zlib(TEXT.as_bytes()))),
        (
            "/raw-deflate",
            encoded("deflate", raw_deflate(TEXT.as_bytes())),
        ),
    ]);
    for path in ["/gzip", "/br", "/zlib", "/raw-deflate"] {
        let env = TestEnv::with_store();
        let url = server.url(path);
        env.run(&["add", &url]).ok();
        assert_eq!(
            env.run(&["show", &url, "--raw"]).ok().stdout,
            TEXT,
            "{path}"
        );
        let log: serde_json::Value =
            serde_json::from_str(&env.run(&["log", &url, "--format", "json"]).ok().stdout)
                .expect("json");
        let recorded = &log[0]["origin"]["headers"]["content-encoding"];
        assert!(
            recorded.is_string(),
            "{path}: the encoding is part of the provenance: {log}"
        );
        // A re-check of the same compressed bytes is unchanged, not an edit.
        let run = env.run(&["check", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("check json");
        assert_eq!(json["results"][0]["verdict"], "unchanged", "{path}: {json}");
    }
}

#[test]
fn a_compression_bomb_stops_at_the_limit() {
    // ~10 MB of zeros in ~10 KB of gzip.
    let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let deflate_bomb = zlib(&vec![b'a'; 10 * 1024 * 1024]);
    let server = Server::with(&[
        ("/bomb", encoded("gzip", bomb)),
        ("/deflate-bomb", encoded("deflate", deflate_bomb)),
        ("/ok", Reply::ok("text/plain", TEXT)),
    ]);
    let env = TestEnv::with_store();
    let before = env.head();
    for path in ["/bomb", "/deflate-bomb"] {
        let run = env
            .run(&["add", &server.url(path), "--max-bytes", "1000000"])
            .fails_with(4);
        assert!(run.stderr.contains("limit"), "{path}: {}", run.stderr);
    }
    assert_eq!(env.head(), before);

    // In a check, a bomb is an error for that source, not a crash or an edit.
    let routes = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    routes
        .lock()
        .expect("routes")
        .insert("/doc".to_owned(), Reply::ok("text/plain", TEXT));
    let live = Server::start(routes.clone());
    env.run(&["add", &live.url("/doc")]).ok();
    routes.lock().expect("routes").insert(
        "/doc".to_owned(),
        encoded("gzip", gzip(&vec![0u8; 10 * 1024 * 1024])),
    );
    let run = env.run(&["check", "--format", "json", "--max-bytes", "1000000"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("check json");
    assert_eq!(json["results"][0]["verdict"], "error", "{json}");
    assert!(
        json["results"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("limit")),
        "{json}"
    );
}
