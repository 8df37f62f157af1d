//! bitinfocharts tweet counts (`/comparison/{name}-tweets.html`): the page embeds its daily series
//! as a Dygraph array `[[new Date("YYYY/MM/DD"),value],...]` with `null` for missing days. This is
//! scraping: when the page goes or changes, parsing fails, the source reports unhealthy and
//! nothing else is affected.

use chrono::NaiveDate;

use super::{FetchError, Point};

const MARKER: &str = "new Date(\"";

/// The page name of a coin's tweet chart, by the coin's name (`Bitcoin`).
pub fn page(name: &str) -> String {
    format!(
        "comparison/{}-tweets.html",
        name.to_ascii_lowercase().replace(' ', "-")
    )
}

/// Daily points (midnight UTC of each day), oldest first; `null` days are left out. A page with
/// no such array at all is an error (the page changed), not an empty series.
pub fn parse(html: &str) -> Result<Vec<Point>, FetchError> {
    let mut points = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(MARKER) {
        rest = &rest[start + MARKER.len()..];
        let Some(date_end) = rest.find('"') else { break };
        let date = NaiveDate::parse_from_str(&rest[..date_end], "%Y/%m/%d")
            .map_err(|e| FetchError::Malformed(format!("date {:?}: {e}", &rest[..date_end])))?;
        rest = &rest[date_end..];
        let Some(comma) = rest.find(',') else { break };
        let Some(close) = rest.find(']') else { break };
        if close < comma {
            return Err(FetchError::Malformed(format!("no value for {date}")));
        }
        let raw = rest[comma + 1..close].trim();
        rest = &rest[close..];
        if raw == "null" {
            continue;
        }
        let value: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| FetchError::Malformed(format!("value {raw:?} for {date}")))?;
        let ts = date.and_hms_opt(0, 0, 0).map_or(0, |d| d.and_utc().timestamp());
        points.push(Point { ts, value });
    }
    if points.is_empty() {
        return Err(FetchError::Malformed(
            "no Dygraph series `[new Date(\"YYYY/MM/DD\"),value]` in the page (has it changed?)".into(),
        ));
    }
    points.sort_by_key(|p| p.ts);
    points.dedup_by_key(|p| p.ts);
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    // No recorded page exists in our data: this is the documented shape of the embedded array
    // (../shared/data/README.md), not data; values are placeholders for the parser only.
    const SHAPE: &str = r#"<script>var d = new Dygraph(document.getElementById("c"),
        [[new Date("2021/01/01"),null],[new Date("2021/01/02"),1],[new Date("2021/01/03"),2.5]], {labels: ["Date","Tweets"]});</script>"#;

    #[test]
    fn reads_the_dygraph_array_and_skips_nulls() {
        let points = parse(SHAPE).unwrap();
        assert_eq!(
            points,
            [
                Point {
                    ts: 1_609_545_600,
                    value: 1.0
                },
                Point {
                    ts: 1_609_632_000,
                    value: 2.5
                }
            ]
        );
        assert_eq!(page("Ripple"), "comparison/ripple-tweets.html");
        assert_eq!(page("Bitcoin Cash"), "comparison/bitcoin-cash-tweets.html");
    }

    #[test]
    fn a_changed_page_is_an_error() {
        assert!(parse("<html>new layout</html>").is_err());
        assert!(parse(r#"[[new Date("2021/13/01"),5]]"#).is_err());
        assert!(parse(r#"[[new Date("2021/01/01"),"x"]]"#).is_err());
    }
}
