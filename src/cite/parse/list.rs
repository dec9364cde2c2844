//! Plain TOML and YAML lists, for authors who write their citations down rather than in prose:
//! each entry a `url`, and optionally a `quote`, an `accessed` date and a `key`. An entry is a
//! citation by its author's say-so, so one without a capturable URL is an error, not skipped.

use jiff::civil::Date;

use super::{
    Found, Lines, Parsed, clean_quote, collapse_whitespace, date_from_parts, is_citable, iso_date,
};

/// A TOML citation list: `[[citation]]` tables (or `[[citations]]`); other keys are the
/// author's own.
#[derive(serde::Deserialize)]
struct TomlList {
    #[serde(default)]
    citation: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    citations: Vec<toml::Spanned<toml::Table>>,
}

/// Reads a TOML list of `[[citation]]` tables.
pub(super) fn read_toml(text: &str) -> Parsed {
    let lines = Lines::new(text.as_bytes());
    let list: TomlList = toml::from_str(text).map_err(|e| {
        let message = collapse_whitespace(e.message());
        match e.span() {
            Some(span) => format!("line {}: {message}", lines.line(span.start)),
            None => message,
        }
    })?;
    let mut tables = list.citation;
    tables.extend(list.citations);
    tables.sort_by_key(|t| t.span().start);
    let mut found = Vec::new();
    for (n, table) in tables.iter().enumerate() {
        let line = lines.line(table.span().start);
        let name = format!("citation {} (line {line})", n + 1);
        let text_field = |field: &str| match table.get_ref().get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{name}: {field} is not a string")),
        };
        let accessed = match table.get_ref().get("accessed") {
            None => None,
            Some(toml::Value::Datetime(datetime)) => match &datetime.date {
                Some(d) => Some(
                    date_from_parts(d.year.into(), d.month.into(), d.day.into())
                        .map_err(|e| format!("{name}: accessed {e}"))?,
                ),
                None => return Err(format!("{name}: accessed {datetime} is a time, not a date")),
            },
            Some(toml::Value::String(s)) => Some(list_date(s, &name)?),
            Some(_) => return Err(format!("{name}: accessed is not a date")),
        };
        found.push(list_entry(
            text_field("url")?,
            text_field("quote")?,
            accessed,
            text_field("key")?.map(str::to_owned),
            line,
            &name,
        )?);
    }
    Ok(found)
}

/// Reads a YAML list of citations (or a map with a `citations` list).
pub(super) fn read_yaml(text: &str) -> Parsed {
    use serde_yaml_ng::Value;

    let value: Value =
        serde_yaml_ng::from_str(text).map_err(|e| collapse_whitespace(&e.to_string()))?;
    let shape = "expected a list of citations, or a map with a citations list";
    let items = match &value {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        Value::Mapping(map) => match map.get("citations").or_else(|| map.get("citation")) {
            Some(Value::Sequence(items)) => items,
            _ => return Err(shape.to_owned()),
        },
        _ => return Err(shape.to_owned()),
    };
    let mut found = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let name = format!("citation {}", n + 1);
        let Value::Mapping(item) = item else {
            return Err(format!("{name}: not a map"));
        };
        let text_field = |field: &str| match item.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{name}: {field} is not a string")),
        };
        let key = match item.get("key") {
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => text_field("key")?.map(str::to_owned),
        };
        let accessed = match text_field("accessed")? {
            Some(date) => Some(list_date(date, &name)?),
            None => None,
        };
        found.push(list_entry(
            text_field("url")?,
            text_field("quote")?,
            accessed,
            key,
            0,
            &name,
        )?);
    }
    Ok(found)
}

/// An accessed date written as a string in a list: it must be a full date.
fn list_date(text: &str, name: &str) -> Result<Date, String> {
    match iso_date(text) {
        Some(Ok(date)) => Ok(date),
        Some(Err(e)) => Err(format!("{name}: accessed {e}")),
        None => Err(format!(
            "{name}: accessed {text:?} is not a YYYY-MM-DD date"
        )),
    }
}

/// One entry of a TOML or YAML list. Its author wrote it down as a citation, so a missing or
/// uncapturable URL is an error rather than something to skip.
fn list_entry(
    url: Option<&str>,
    quote: Option<&str>,
    accessed: Option<Date>,
    key: Option<String>,
    line: usize,
    name: &str,
) -> Result<Found, String> {
    let Some(url) = url.map(str::trim) else {
        return Err(format!("{name}: no url"));
    };
    if !is_citable(url) {
        return Err(format!(
            "{name}: url {url} is not an http, https or file URL"
        ));
    }
    Ok(Found {
        locator: url.to_owned(),
        quote: quote.and_then(clean_quote),
        accessed,
        line,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const TOML_LIST: &str = r#"# Sources for the essay
title = "Notes"

[[citation]]
url = "https://times.example.com/2024/03/figures"
quote = """
The agency has no plans
to revise the figures."""
accessed = 2024-03-12

[[citation]]
url = "https://agency.example.gov/press/2024-03-15"
accessed = "2024-03-15"
key = "release"

[[citation]]
url = "file:///home/jane/notes/figures.txt"
accessed = 2024-03-20T09:30:00Z
"#;

    #[test]
    fn toml_list() {
        let found = parse(Format::Toml, TOML_LIST, "cites.toml").expect("the list parses");
        let f = "cites.toml";
        assert_eq!(
            found,
            [
                cite(
                    "https://times.example.com/2024/03/figures",
                    Some("The agency has no plans to revise the figures."),
                    Some(date(2024, 3, 12)),
                    f,
                    4,
                    None,
                ),
                cite(
                    "https://agency.example.gov/press/2024-03-15",
                    None,
                    Some(date(2024, 3, 15)),
                    f,
                    11,
                    Some("release"),
                ),
                cite(
                    "file:///home/jane/notes/figures.txt",
                    None,
                    Some(date(2024, 3, 20)),
                    f,
                    16,
                    None,
                ),
            ]
        );
        let plural = "[[citations]]\nurl = \"https://a.example/\"\n";
        assert_eq!(
            parse(Format::Toml, plural, "c.toml").expect("parses"),
            [cite("https://a.example/", None, None, "c.toml", 1, None)]
        );
    }

    #[test]
    fn toml_malformed() {
        let detail = malformed(
            Format::Toml,
            "[[citation]]\nurl = \"https://a.example/\"\n\n[[citation]]\nquote = \"No source\"\n",
        );
        assert_eq!(detail, "citation 2 (line 4): no url");
        let detail = malformed(Format::Toml, "[[citation]]\nurl = \"https://a.example/\n");
        assert_eq!(detail, "line 2: invalid basic string, expected `\"`");
        let detail = malformed(Format::Toml, "title = \"Notes\"\ncitation = 3\n");
        assert_eq!(
            detail,
            "line 2: invalid type: integer `3`, expected a sequence"
        );
        let detail = malformed(
            Format::Toml,
            "[[citation]]\nurl = \"https://a.example/\"\naccessed = \"March 2024\"\n",
        );
        assert_eq!(
            detail,
            "citation 1 (line 1): accessed \"March 2024\" is not a YYYY-MM-DD date"
        );
        let detail = malformed(Format::Toml, "[[citation]]\nurl = \"notes.txt\"\n");
        assert_eq!(
            detail,
            "citation 1 (line 1): url notes.txt is not an http, https or file URL"
        );
    }

    #[test]
    fn yaml_lists() {
        let map = r#"title: Notes
citations:
  - url: https://times.example.com/2024/03/figures
    quote: >-
      The agency has no plans
      to revise the figures.
    accessed: 2024-03-12
  - url: https://agency.example.gov/press/2024-03-15
    key: release
"#;
        let f = "cites.yaml";
        let expected = [
            cite(
                "https://times.example.com/2024/03/figures",
                Some("The agency has no plans to revise the figures."),
                Some(date(2024, 3, 12)),
                f,
                0,
                None,
            ),
            cite(
                "https://agency.example.gov/press/2024-03-15",
                None,
                None,
                f,
                0,
                Some("release"),
            ),
        ];
        assert_eq!(
            parse(Format::Yaml, map, f).expect("the map parses"),
            expected
        );
        let list = "- url: https://times.example.com/2024/03/figures\n  quote: The agency has no plans to revise the figures.\n  accessed: '2024-03-12'\n- {url: 'https://agency.example.gov/press/2024-03-15', key: release}\n";
        assert_eq!(
            parse(Format::Yaml, list, f).expect("the list parses"),
            expected
        );
    }

    #[test]
    fn yaml_malformed() {
        assert_eq!(
            malformed(
                Format::Yaml,
                "- url: https://a.example/\n- quote: No source\n"
            ),
            "citation 2: no url"
        );
        let detail = malformed(Format::Yaml, "citations:\n  - url: [unclosed\n");
        assert_eq!(
            detail,
            "did not find expected ',' or ']' at line 3 column 1, while parsing a flow sequence \
             at line 2 column 10"
        );
        assert_eq!(
            malformed(Format::Yaml, "citations: none"),
            "expected a list of citations, or a map with a citations list"
        );
        assert_eq!(
            malformed(
                Format::Yaml,
                "- url: https://a.example/\n  accessed: 2024-02-30\n"
            ),
            "citation 1: accessed 2024-02-30 is not a valid date"
        );
    }
}
