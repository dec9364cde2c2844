//! CSL-JSON, as Zotero and pandoc write it: items with a `URL`; the quote is a `quote` field or
//! the first quotation in the `note`, the accessed date `accessed`.

use jiff::civil::Date;

use super::{Found, Parsed, clean_quote, date_from_parts, first_quoted, is_citable, iso_date};

/// Reads the citations of a CSL-JSON array (or a single item).
pub(super) fn read(text: &str) -> Parsed {
    use serde_json::Value;

    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items = match value {
        Value::Array(items) => items,
        item @ Value::Object(_) => vec![item],
        _ => return Err("expected a CSL-JSON array of items, or one item".to_owned()),
    };
    let mut found = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(format!("item {}: not an object", n + 1));
        };
        let key = match item.get("id") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Number(id)) => Some(id.to_string()),
            _ => None,
        };
        let name = match &key {
            Some(id) => format!("item {} ({id})", n + 1),
            None => format!("item {}", n + 1),
        };
        let url = match item.get("URL") {
            None | Some(Value::Null) => continue,
            Some(Value::String(url)) => url.trim(),
            Some(_) => return Err(format!("{name}: URL is not a string")),
        };
        if !is_citable(url) {
            continue;
        }
        let accessed = match item.get("accessed") {
            None | Some(Value::Null) => None,
            Some(date) => csl_date(date).map_err(|e| format!("{name}: accessed {e}"))?,
        };
        let quote = match item.get("quote") {
            Some(Value::String(quote)) => clean_quote(quote),
            _ => item
                .get("note")
                .and_then(Value::as_str)
                .and_then(first_quoted)
                .and_then(clean_quote),
        };
        found.push(Found {
            locator: url.to_owned(),
            quote,
            accessed,
            line: 0,
            key,
        });
    }
    Ok(found)
}

/// A CSL date: `{"date-parts": [[2024, 3, 12]]}` (parts may be strings), `{"raw": "…"}`, or a
/// bare string. Only a full date is a date; a year or a month is none.
fn csl_date(value: &serde_json::Value) -> Result<Option<Date>, String> {
    use serde_json::Value;

    let from_text = |text: &str| iso_date(text).transpose();
    match value {
        Value::String(text) => from_text(text),
        Value::Object(date) => {
            if let Some(parts) = date.get("date-parts") {
                let first = parts
                    .as_array()
                    .and_then(|ranges| ranges.first())
                    .and_then(Value::as_array)
                    .ok_or("date-parts is not a list of lists")?;
                let mut numbers = Vec::with_capacity(3);
                for part in first.iter().take(3) {
                    let number = match part {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    };
                    numbers
                        .push(number.ok_or_else(|| format!("date part {part} is not a number"))?);
                }
                match numbers[..] {
                    [year, month, day] => date_from_parts(year, month, day).map(Some),
                    _ => Ok(None),
                }
            } else if let Some(raw) = date.get("raw").and_then(Value::as_str) {
                from_text(raw)
            } else {
                Ok(None)
            }
        }
        _ => Err("is not a CSL date".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const CSL: &str = r#"[
  {
    "id": "smithAgencyRevisesFigures2024",
    "type": "article-newspaper",
    "title": "Agency revises its figures",
    "container-title": "The Example Times",
    "URL": "https://times.example.com/2024/03/figures",
    "note": "The article said “the agency has no plans to revise the figures”.\nCitation Key: smith2024",
    "author": [{"family": "Smith", "given": "Jane"}],
    "accessed": {"date-parts": [["2024", 3, 12]]},
    "issued": {"date-parts": [[2024, 3, 11]]}
  },
  {
    "id": "agencyPressRelease2024",
    "type": "webpage",
    "URL": "https://agency.example.gov/press/2024-03-15",
    "quote": "We stand by\n every number.",
    "accessed": {"raw": "2024-03-15"}
  },
  {"id": "roeStatistics2020", "type": "book", "title": "Statistics"},
  {"id": 7, "type": "webpage", "URL": "file:///home/jane/notes.txt", "accessed": {"date-parts": [[2024, 3]]}},
  {"id": "mail", "type": "webpage", "URL": "mailto:press@example.com"}
]"#;

    #[test]
    fn csl_json_export() {
        let found = parse(Format::CslJson, CSL, "refs.json").expect("the export parses");
        let f = "refs.json";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("the agency has no plans to revise the figures"),
                    Some(date(2024, 3, 12)),
                    f,
                    0,
                    Some("smithAgencyRevisesFigures2024"),
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    Some("We stand by every number."),
                    Some(date(2024, 3, 15)),
                    f,
                    0,
                    Some("agencyPressRelease2024"),
                ),
                cite("file:///home/jane/notes.txt", None, None, f, 0, Some("7")),
            ]
        );
        let one = r#"{"id": "x", "URL": "https://a.example/", "accessed": "2024-01-02"}"#;
        assert_eq!(
            parse(Format::CslJson, one, "one.json").expect("one item parses"),
            [cite(
                "https://a.example/",
                None,
                Some(date(2024, 1, 2)),
                "one.json",
                0,
                Some("x"),
            )]
        );
    }

    #[test]
    fn csl_json_malformed() {
        let detail = malformed(Format::CslJson, "[\n  {\"id\": \"a\",\n  \"URL\": }\n]");
        assert_eq!(detail, "expected value at line 3 column 10");
        assert_eq!(malformed(Format::CslJson, "[1]"), "item 1: not an object");
        assert_eq!(
            malformed(Format::CslJson, r#"[{"id": "a", "URL": 5}]"#),
            "item 1 (a): URL is not a string"
        );
        assert_eq!(
            malformed(
                Format::CslJson,
                r#"[{"id": "a", "URL": "https://a.example/", "accessed": {"date-parts": [[2024, 2, 30]]}}]"#
            ),
            "item 1 (a): accessed 2024-02-30 is not a valid date"
        );
        assert_eq!(
            malformed(Format::CslJson, "\"text\""),
            "expected a CSL-JSON array of items, or one item"
        );
    }
}
