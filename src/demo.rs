//! The demo's web site: the five seed articles served on loopback as news pages whose
//! furniture changes on every load, and a round of publishers' edits. `verbatim demo` runs the
//! real commands against it; it needs no network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The seed articles, as served.
const SEEDS: [&str; 5] = [
    include_str!("../seeds/000_f2607e87e2613ec7.txt"),
    include_str!("../seeds/001_e30edb4469784b81.txt"),
    include_str!("../seeds/002_392683c93db1048d.txt"),
    include_str!("../seeds/003_6df89bd9ae2a527b.txt"),
    include_str!("../seeds/004_eb4fb325b93bb94a.txt"),
];

/// What the site serves at a path.
#[derive(Clone)]
enum Page {
    Article(String),
    Gone,
}

/// The demo's web site, served on 127.0.0.1 on a thread of its own until dropped.
pub struct Site {
    server: Arc<tiny_http::Server>,
    pages: Arc<Mutex<HashMap<String, Page>>>,
    port: u16,
    serving: Option<std::thread::JoinHandle<()>>,
}

impl Site {
    /// Starts serving the seed articles at `/news/0` to `/news/4` on a free loopback port.
    pub fn start() -> std::io::Result<Site> {
        let pages: Arc<Mutex<HashMap<String, Page>>> = Arc::new(Mutex::new(
            SEEDS
                .iter()
                .enumerate()
                .map(|(i, text)| (format!("/news/{i}"), Page::Article((*text).to_owned())))
                .collect(),
        ));
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("the demo web server has no port"))?;
        let server = Arc::new(server);
        let serving = {
            let (server, pages) = (server.clone(), pages.clone());
            std::thread::spawn(move || serve(&server, &pages))
        };
        Ok(Site {
            server,
            pages,
            port,
            serving: Some(serving),
        })
    }

    /// The port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The articles' URLs.
    pub fn urls(&self) -> Vec<String> {
        (0..SEEDS.len())
            .map(|i| format!("http://127.0.0.1:{}/news/{i}", self.port))
            .collect()
    }

    /// The publishers change things: a figure corrected, an article retracted (410), a
    /// sentence softened, a correction appended.
    pub fn publish_edits(&self) {
        edit(&self.pages);
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(serving) = self.serving.take() {
            let _ = serving.join();
        }
    }
}

fn edit(pages: &Mutex<HashMap<String, Page>>) {
    let Ok(mut pages) = pages.lock() else { return };
    let change = |text: &str, from: &str, to: &str| text.replacen(from, to, 1);
    pages.insert(
        "/news/0".to_owned(),
        Page::Article(change(SEEDS[0], "680 undocumented", "700 undocumented")),
    );
    pages.insert("/news/1".to_owned(), Page::Gone);
    pages.insert(
        "/news/2".to_owned(),
        Page::Article(change(
            SEEDS[2],
            "continues to play a key role in separating families",
            "has played a role in separating some families",
        )),
    );
    pages.insert(
        "/news/4".to_owned(),
        Page::Article(format!(
            "{}\n\nCorrection: An earlier version of this article misstated the value of the contract.\n",
            SEEDS[4].trim_end()
        )),
    );
}

fn serve(server: &tiny_http::Server, pages: &Mutex<HashMap<String, Page>>) {
    let loads = AtomicU64::new(1);
    for request in server.incoming_requests() {
        let page = pages
            .lock()
            .ok()
            .and_then(|p| p.get(request.url()).cloned());
        let n = loads.fetch_add(1, Ordering::Relaxed);
        let response = match page {
            Some(Page::Article(text)) => {
                let mut r = tiny_http::Response::from_data(news_page(&text, n));
                if let Ok(h) = tiny_http::Header::from_bytes(
                    &b"Content-Type"[..],
                    &b"text/html; charset=utf-8"[..],
                ) {
                    r.add_header(h);
                }
                r
            }
            Some(Page::Gone) => {
                tiny_http::Response::from_data(b"Gone".to_vec()).with_status_code(410)
            }
            None => tiny_http::Response::from_data(b"Not found".to_vec()).with_status_code(404),
        };
        let _ = request.respond(response);
    }
}

/// A seed as a news page whose furniture (session token, most-read list, footer) changes on
/// every load, as real news pages do.
fn news_page(text: &str, n: u64) -> Vec<u8> {
    let mut blocks = text.split("\n\n").map(str::trim).filter(|b| !b.is_empty());
    let title = blocks.next().unwrap_or_default();
    let paragraphs: String = blocks.map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} | Demo News</title>\
         <script>var session=\"{n:x}\";</script></head><body>\
         <header><nav><a href=\"/\">Home</a> | <a href=\"/world\">World</a> | visitor {n}</nav></header>\
         <aside><h3>Most read</h3><ol><li><a href=\"/s/{a}\">Story {a}</a></li><li><a href=\"/s/{b}\">Story {b}</a></li></ol></aside>\
         <article><h1>{title}</h1>\n{paragraphs}</article>\
         <footer>Page generated for request {n}</footer></body></html>",
        a = n % 7,
        b = (n * 3) % 11
    )
    .into_bytes()
}
