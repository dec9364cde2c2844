//! `verbatim demo`: the whole story on the bundled seed articles, with no network.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clap::Parser as _;

use super::error::CommandError;
use super::{Cli, Context, dispatch, exit};

/// The seed corpus, built into the binary so the demo needs nothing but itself.
const SEEDS: [&str; 5] = [
    include_str!("../../seeds/000_f2607e87e2613ec7.txt"),
    include_str!("../../seeds/001_e30edb4469784b81.txt"),
    include_str!("../../seeds/002_392683c93db1048d.txt"),
    include_str!("../../seeds/003_6df89bd9ae2a527b.txt"),
    include_str!("../../seeds/004_eb4fb325b93bb94a.txt"),
];

/// Show verbatim end to end on the bundled seed articles, with no network
///
/// Serves the five seeds as news pages from a web server on 127.0.0.1 (their page furniture
/// changes on every load), captures them into a new store, then changes them as publishers do
/// (a figure corrected, a sentence reworded, a correction appended, an article withdrawn) and
/// runs `check`. The store is kept for you to explore.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the demo store [default: a new directory under the system temp dir]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What the server answers for a path.
#[derive(Clone)]
enum Page {
    Article(String),
    Gone,
}

pub fn run(ctx: &Context, args: Args) -> Result<u8, CommandError> {
    let dir = match args.dir {
        Some(dir) => ctx.cwd.join(dir),
        None => {
            let stamp = jiff::Timestamp::now().as_millisecond();
            std::env::temp_dir().join(format!("verbatim-demo-{}-{stamp}", std::process::id()))
        }
    };
    let pages: Arc<Mutex<HashMap<String, Page>>> = Arc::new(Mutex::new(
        SEEDS
            .iter()
            .enumerate()
            .map(|(i, text)| (format!("/news/{i}"), Page::Article((*text).to_owned())))
            .collect(),
    ));
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| {
        CommandError::new(
            exit::INTERNAL,
            format!("cannot start the demo web server on 127.0.0.1: {e}"),
        )
    })?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| CommandError::new(exit::INTERNAL, "the demo web server has no port"))?;
    let server = Arc::new(server);
    let serving = {
        let (server, pages) = (server.clone(), pages.clone());
        std::thread::spawn(move || serve(&server, &pages))
    };
    let urls: Vec<String> = (0..SEEDS.len())
        .map(|i| format!("http://127.0.0.1:{port}/news/{i}"))
        .collect();
    let store = dir.display().to_string();
    let step = |title: &str| ctx.ui.note(&format!("\n== {title}"));
    let run = |words: &[&str]| -> u8 {
        let mut argv = vec!["verbatim", "--store", store.as_str()];
        argv.extend_from_slice(words);
        match Cli::try_parse_from(&argv) {
            Ok(cli) => dispatch(cli),
            Err(e) => {
                ctx.ui
                    .error(&CommandError::new(exit::INTERNAL, e.to_string()));
                exit::INTERNAL
            }
        }
    };

    step(&format!(
        "1. A store in {store}, and five articles served on http://127.0.0.1:{port}/"
    ));
    let mut code = run(&["init"]);
    if code == exit::SUCCESS {
        let mut add = vec!["add"];
        add.extend(urls.iter().map(String::as_str));
        code = run(&add);
    }
    if code == exit::SUCCESS {
        step("2. Checked again at once: only the page furniture changed (cosmetic)");
        code = run(&["check"]);
    }
    if code == exit::SUCCESS {
        step("3. The publishers change things; verbatim checks again");
        edit(&pages);
        code = match run(&["check"]) {
            exit::FINDINGS => exit::SUCCESS,
            other => other,
        };
    }
    server.unblock();
    let _ = serving.join();
    if code == exit::SUCCESS {
        let first = urls.first().map_or("", String::as_str);
        step("4. Explore");
        ctx.ui.note(&format!(
            "verbatim --store {store} log {first}\n\
             verbatim --store {store} show {first} --version 1\n\
             git -C {store} log -p --word-diff -- 'sources/*/text.txt'"
        ));
    }
    Ok(code)
}

/// The changes a demo makes: a figure corrected, a sentence reworded, one article withdrawn,
/// a correction appended; one article is left alone.
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
