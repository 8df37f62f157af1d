//! Times as text, in the two forms coincast writes, from Unix seconds (UTC). One module, so a
//! form is spelt once:
//! - [`rfc3339`], `2024-01-01T00:00:00+00:00`: model cards, the training report, evaluation rows
//!   and the gate's records (cards compare their training spans in this form, as text);
//! - [`rfc3339_z`], `2024-01-01T00:00:00Z`: the API's decision times and the signal files
//!   freqtrade reads.
//!
//! A time chrono cannot represent is an empty string.

use chrono::{DateTime, SecondsFormat};

/// `2024-01-01T00:00:00+00:00`.
pub fn rfc3339(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default()
}

/// `2024-01-01T00:00:00Z`.
pub fn rfc3339_z(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_the_edge() {
        assert_eq!(rfc3339(1_748_822_700), "2025-06-02T00:05:00+00:00");
        assert_eq!(rfc3339_z(1_748_822_700), "2025-06-02T00:05:00Z");
        assert_eq!(rfc3339(i64::MAX), "");
        assert_eq!(rfc3339_z(i64::MIN), "");
    }
}
