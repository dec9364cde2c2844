//! Learning what changes between two loads of a page (counters, time stamps) as ignore
//! patterns.

/// Learns what changes between two loads of a page taken moments apart, as ignore patterns.
///
/// Paragraphs that differ between the loads are paired by position in a diff of the two
/// paragraph lists; a pair that is the same apart from its numbers ("Updated 5 minutes ago",
/// "Last updated 14:32 GMT", "1,234 shares") gives one pattern matching that whole paragraph
/// with any numbers. A pattern is kept only when it is specific: at least four letters of fixed
/// text, and matching no more than two paragraphs of the page, so a table of figures or a
/// paragraph of the article can never be learned away. Paragraphs that change entirely (a
/// rotating story) give nothing; the furniture rules handle those.
pub fn learn_noise(first: &str, second: &str) -> Vec<String> {
    let a: Vec<&str> = first.split("\n\n").collect();
    let b: Vec<&str> = second.split("\n\n").collect();
    // Both loads come from the server, which may send thousands of paragraphs that all differ:
    // the alignment gets a deadline (past it, a coarser one), and only so many pairs are
    // looked at, so learning stays near-linear whatever the page.
    const DEADLINE: std::time::Duration = std::time::Duration::from_millis(500);
    const MAX_PAIRS: usize = 256;
    const MAX_LEARNED: usize = 32;
    let mut learned: Vec<String> = Vec::new();
    let mut pairs = 0usize;
    let deadline = std::time::Instant::now() + DEADLINE;
    for op in
        similar::capture_diff_slices_deadline(similar::Algorithm::Myers, &a, &b, Some(deadline))
    {
        let similar::DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } = op
        else {
            continue;
        };
        for (x, y) in a[old_index..old_index + old_len]
            .iter()
            .zip(&b[new_index..new_index + new_len])
        {
            pairs += 1;
            if pairs > MAX_PAIRS || learned.len() >= MAX_LEARNED {
                return learned;
            }
            let (gx, gy) = (numbers_generalised(x), numbers_generalised(y));
            let letters = x.chars().filter(|c| c.is_alphabetic()).count();
            if gx != gy || letters < 4 || learned.contains(&gx) {
                continue;
            }
            let Ok(pattern) = regex::Regex::new(&gx) else {
                continue;
            };
            if a.iter().filter(|p| pattern.is_match(p)).take(3).count() <= 2 {
                learned.push(gx);
            }
        }
    }
    learned
}

/// A regular expression matching exactly this paragraph, with any run of digits (and the
/// separators inside numbers) in place of each number.
fn numbers_generalised(paragraph: &str) -> String {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d+(?:[.,:]\d+)*").unwrap_or_else(|_| unreachable!())
    });
    let mut out = String::from("(?m)^");
    let mut last = 0;
    for m in NUMBER.find_iter(paragraph) {
        out.push_str(&regex::escape(&paragraph[last..m.start()]));
        out.push_str(r"\d+(?:[.,:]\d+)*");
        last = m.end();
    }
    out.push_str(&regex::escape(&paragraph[last..]));
    out.push('$');
    out
}
