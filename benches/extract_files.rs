//! Extraction cost per page, counted in instructions: the pages named on the command line are
//! extracted as `check` extracts them (`extract_with`, default rules), `PASSES` times over
//! (default 1). Run twice under callgrind (`benches/check/instructions.sh`), once with one pass
//! and once with three, the difference is the cost of extracting each page twice more,
//! whatever the process pays once (patterns compiled, tables built). Instruction counts hold
//! on a loaded machine, where times do not.

fn main() {
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let mut pages = Vec::new();
    for path in std::env::args().skip(1) {
        match std::fs::read(&path) {
            Ok(bytes) => pages.push(bytes),
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(2);
            }
        }
    }
    let rules = verbatim::extract::Rules::default();
    let mut bytes = 0;
    for _ in 0..passes {
        for page in &pages {
            let extracted = verbatim::extract::extract_with(page, Some("text/html"), None, &rules);
            bytes += extracted.text.len();
        }
    }
    println!(
        "{} pages, {passes} passes, {bytes} bytes of text",
        pages.len()
    );
}
