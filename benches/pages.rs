//! News-page layouts around the seed articles, with the boilerplate that changes on every load
//! of a real page, and the edits a reader cares about. Shared by `benches/extraction.rs` and the
//! extractor comparison in `benches/extractors/`.

/// A deterministic generator, so every run builds the same pages.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

pub const HEADLINES: &[&str] = &[
    "Markets rally as inflation cools for a third month",
    "Storm leaves thousands without power across the coast",
    "Court blocks new rules on gig workers pending appeal",
    "City council approves budget after marathon session",
    "Researchers find microplastics in deep-sea sediment",
    "Union and rail operator reach tentative agreement",
    "Heatwave warnings issued for much of the south",
    "Tech giant faces new antitrust complaint in Europe",
    "School districts struggle to fill teaching vacancies",
    "Election officials prepare for record turnout",
    "Drought forces farmers to cut planting",
    "Hospital waiting lists hit new high",
];
pub const SPONSORS: &[&str] = &[
    "Sponsored: The smarter way to save for retirement starts today.",
    "Sponsored: Discover the trip of a lifetime with our partners.",
    "Sponsored: This mattress has 40,000 five-star reviews.",
    "Sponsored: Homeowners are switching insurers in record numbers.",
    "Sponsored: Learn a language in 10 minutes a day.",
];
pub const PROMOS: &[&str] = &[
    "Sign up for our morning briefing and get the news that matters in your inbox.",
    "Get our weekend newsletter: the best long reads, every Saturday.",
    "Support independent journalism. Subscribe from just 1 a week.",
    "Never miss a story: follow us on all your favourite platforms.",
];
pub const CREDITS: &[&str] = &[
    "Photograph: Reuters",
    "Photograph: Getty Images",
    "Photograph: AP",
    "Photograph: AFP",
];

pub struct Article {
    pub title: String,
    pub paragraphs: Vec<String>,
}

/// An edit a reader would care about, applied to the article before it is wrapped in a page.
#[derive(Clone, Copy, Debug)]
pub enum Edit {
    Reword,
    Figure,
    DeleteParagraph,
    Correction,
    Headline,
}

pub const EDITS: [Edit; 5] = [
    Edit::Reword,
    Edit::Figure,
    Edit::DeleteParagraph,
    Edit::Correction,
    Edit::Headline,
];

pub fn edited(article: &Article, edit: Edit) -> Article {
    let mut title = article.title.clone();
    let mut paragraphs = article.paragraphs.clone();
    let middle = paragraphs.len() / 2;
    match edit {
        Edit::Reword => {
            let p = &mut paragraphs[middle];
            // Swap the paragraph's first two words: a reworded sentence, same length.
            let mut words: Vec<&str> = p.split(' ').collect();
            if words.len() > 2 {
                words.swap(0, 1);
            }
            *p = words.join(" ");
        }
        Edit::Figure => {
            // Change the first figure in the text, or add one where there is none.
            let at = paragraphs
                .iter()
                .position(|p| p.chars().any(|c| c.is_ascii_digit()));
            match at {
                Some(i) => {
                    let p = &paragraphs[i];
                    let d = p.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
                    let digit = p.as_bytes()[d];
                    let new = if digit == b'9' {
                        '8'
                    } else {
                        (digit + 1) as char
                    };
                    paragraphs[i] = format!("{}{new}{}", &p[..d], &p[d + 1..]);
                }
                None => paragraphs[middle].push_str(" The total was 12 percent."),
            }
        }
        Edit::DeleteParagraph => {
            paragraphs.remove(middle);
        }
        Edit::Correction => paragraphs.push(
            "Correction: an earlier version of this article misstated the year of the contract."
                .to_owned(),
        ),
        Edit::Headline => title.push_str(", officials say"),
    }
    Article { title, paragraphs }
}

pub fn links(rng: &mut Rng, n: usize) -> Vec<(u64, &'static str)> {
    (0..n)
        .map(|_| (rng.next() % 100_000, rng.pick(HEADLINES)))
        .collect()
}

pub fn link_list(rng: &mut Rng, n: usize) -> String {
    links(rng, n)
        .iter()
        .map(|(id, h)| format!("<li><a href=\"/story/{id}\">{h}</a></li>"))
        .collect()
}

pub fn nav() -> &'static str {
    "<nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/world\">World</a></li>\
     <li><a href=\"/politics\">Politics</a></li><li><a href=\"/business\">Business</a></li>\
     <li><a href=\"/tech\">Technology</a></li><li><a href=\"/opinion\">Opinion</a></li></ul></nav>"
}

/// Site layouts. Each takes the article and a generator for this load's noise.
pub type Template = fn(&Article, &mut Rng) -> String;

/// `<article>` with a byline that says how long ago it was updated, share counts, and a
/// rotating "related" list inside the article; most-read list and footer outside.
pub fn classic(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<!DOCTYPE html><html><head><title>{t} | The Record</title></head><body>\
         <header><a href=\"/\">The Record</a>{nav}</header><main><article><h1>{t}</h1>\
         <p class=\"byline\">By Staff Reporter. Updated {m} minutes ago</p>\
         <div class=\"share\">{s} shares</div>{body}\
         <aside class=\"related\"><h2>Related</h2><ul>{rel}</ul></aside></article>\
         <aside class=\"most-read\"><h2>Most read</h2><ol>{most}</ol></aside></main>\
         <footer><p>© The Record</p>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        m = 1 + rng.below(59),
        s = rng.below(5000),
        rel = link_list(rng, 4),
        most = link_list(rng, 8),
    )
}

/// No semantic elements: a story body div among sidebars, with sponsored blocks and a newsletter
/// promo between paragraphs.
pub fn div_soup(a: &Article, rng: &mut Rng) -> String {
    let mut body = String::new();
    for (i, p) in a.paragraphs.iter().enumerate() {
        body.push_str(&format!("<div class=\"para\">{p}</div>"));
        if i == 2 {
            body.push_str(&format!(
                "<div class=\"ad-slot\"><span>Advertisement</span><div>{}</div></div>",
                rng.pick(SPONSORS)
            ));
        }
        if i == 4 {
            body.push_str(&format!("<div class=\"promo\">{}</div>", rng.pick(PROMOS)));
        }
    }
    format!(
        "<html><head><title>{t}</title></head><body><div id=\"top\">{nav}</div>\
         <div class=\"wrap\"><div class=\"left\"><ul>{side}</ul></div>\
         <div class=\"story\"><div class=\"headline\">{t}</div>{body}</div>\
         <div class=\"right\"><div class=\"trending\"><ul>{trend}</ul></div></div></div>\
         <div id=\"foot\">Copyright {y}</div></body></html>",
        t = a.title,
        nav = nav(),
        side = link_list(rng, 6),
        trend = link_list(rng, 5),
        y = 2024,
    )
}

/// "Read more" links between paragraphs and a comment count, inside `<main>`.
pub fn read_more(a: &Article, rng: &mut Rng) -> String {
    let mut body = String::new();
    for (i, p) in a.paragraphs.iter().enumerate() {
        body.push_str(&format!("<p>{p}</p>"));
        if i % 3 == 1 {
            let (id, h) = links(rng, 1)[0];
            body.push_str(&format!(
                "<p><strong>Read more:</strong> <a href=\"/story/{id}\">{h}</a></p>"
            ));
        }
    }
    format!(
        "<html><head><title>{t}</title></head><body>{nav}<main><h1>{t}</h1>\
         <div class=\"ticker\">Live: {tick}</div>{body}\
         <p class=\"comments\"><a href=\"#comments\">{c} comments</a></p></main>\
         <footer>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        tick = rng.pick(HEADLINES),
        c = rng.below(900),
    )
}

/// A figure with a rotating credit and "recommended" cards (headline link plus summary text)
/// inside the article.
pub fn cards(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let cards: String = (0..3)
        .map(|_| {
            let (id, h) = links(rng, 1)[0];
            format!(
                "<div class=\"card\"><h3><a href=\"/story/{id}\">{h}</a></h3>\
                 <p>{}</p></div>",
                rng.pick(PROMOS)
            )
        })
        .collect();
    format!(
        "<html><head><title>{t}</title></head><body><header>{nav}</header><article>\
         <h1>{t}</h1><figure><img src=\"/i/{img}.jpg\"><figcaption>{credit}</figcaption></figure>\
         {body}<section class=\"recommended\"><h2>Recommended for you</h2>{cards}</section>\
         </article><footer>{nav}</footer></body></html>",
        t = a.title,
        nav = nav(),
        img = rng.next(),
        credit = rng.pick(CREDITS),
    )
}

/// Held out: written after the furniture rules, with names they do not know — a live
/// "Last updated" time inside the article and a widget of story summaries with unlinked text.
pub fn widgets(a: &Article, rng: &mut Rng) -> String {
    let body: String = a.paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let picks: String = (0..2)
        .map(|_| {
            format!(
                "<div class=\"w-item\"><b>{}</b> {}</div>",
                rng.pick(HEADLINES),
                rng.pick(PROMOS)
            )
        })
        .collect();
    format!(
        "<html><head><title>{t}</title></head><body><div class=\"masthead\">{nav}</div>\
         <div class=\"content\"><h1>{t}</h1><p class=\"dateline\">Last updated {h:02}:{m:02} GMT</p>\
         {body}<div class=\"widget-area\"><h4>Editors' picks</h4>{picks}</div></div>\
         <div class=\"bottom\">{nav}</div></body></html>",
        t = a.title,
        nav = nav(),
        h = rng.below(24),
        m = rng.below(60),
    )
}

pub const TEMPLATES: [(&str, Template); 5] = [
    ("article, byline stamp, related list inside", classic),
    ("div soup, sponsored blocks, promo", div_soup),
    ("read-more links, ticker, comment count", read_more),
    ("figure credit, recommended cards inside", cards),
    ("held out: live time stamp, summary widget", widgets),
];

/// The seed articles in `dir`: the first line of each is its title.
pub fn seeds(dir: &std::path::Path) -> Vec<Article> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("seeds directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("seed text");
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let title = lines.next().unwrap_or("Untitled").to_owned();
            Article {
                title,
                paragraphs: lines.map(str::to_owned).collect(),
            }
        })
        .collect()
}
