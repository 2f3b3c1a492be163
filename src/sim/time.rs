//! Simulated UTC instants and spans, in whole seconds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

/// An instant of simulated UTC time, in seconds since the Unix epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// A span of simulated time, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(pub i64);

impl Duration {
    pub const fn seconds(s: i64) -> Self {
        Duration(s)
    }
    pub const fn minutes(m: i64) -> Self {
        Duration(m.saturating_mul(60))
    }
    pub const fn hours(h: i64) -> Self {
        Duration(h.saturating_mul(3600))
    }
    pub const fn days(d: i64) -> Self {
        Duration(d.saturating_mul(86400))
    }

    /// Parses `30s`, `10m`, `8h`, `2d` (a plain number means minutes).
    pub fn parse(text: &str) -> Option<Duration> {
        let t = text.trim();
        let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((i, _)) => (&t[..i], &t[i..]),
            None => (t, "m"),
        };
        let n: i64 = num.parse().ok()?;
        let secs = match unit {
            "s" => n,
            "m" | "min" => n.checked_mul(60)?,
            "h" => n.checked_mul(3600)?,
            "d" => n.checked_mul(86400)?,
            _ => return None,
        };
        Some(Duration(secs))
    }

    /// A short human form: `1d 2h 3m`.
    pub fn human(self) -> String {
        let mut s = self.0.max(0);
        let d = s / 86400;
        s %= 86400;
        let h = s / 3600;
        s %= 3600;
        let m = s / 60;
        let sec = s % 60;
        let mut parts = Vec::new();
        if d > 0 {
            parts.push(format!("{d}d"));
        }
        if h > 0 {
            parts.push(format!("{h}h"));
        }
        if m > 0 {
            parts.push(format!("{m}m"));
        }
        if sec > 0 || parts.is_empty() {
            parts.push(format!("{sec}s"));
        }
        parts.join(" ")
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(d.0))
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, d: Duration) -> Duration {
        Duration(self.0.saturating_sub(d.0))
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = Duration;
    fn sub(self, other: Timestamp) -> Duration {
        Duration(self.0.saturating_sub(other.0))
    }
}

impl Timestamp {
    /// The latest instant the clock and the calendar work with (9000-01-01T00:00:00Z):
    /// beyond it dates overflow, so neither a file nor a request may hold one.
    pub const LATEST: Timestamp = Timestamp(221_845_392_000);

    /// Within 1970 to the year 9000.
    pub fn in_calendar(self) -> bool {
        (0..=Self::LATEST.0).contains(&self.0)
    }

    /// ISO 8601 with a `+00:00` offset, as the Azure CLI prints dates.
    pub fn to_iso(self) -> String {
        match ::time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => {
                let f = ::time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
                );
                t.format(&f).unwrap_or_else(|_| self.0.to_string())
            }
            Err(_) => self.0.to_string(),
        }
    }

    /// `2026-01-01 09:00:00 UTC`, for the UI.
    pub fn to_display(self) -> String {
        match ::time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => {
                let f = ::time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
                );
                t.format(&f).unwrap_or_else(|_| self.0.to_string())
            }
            Err(_) => self.0.to_string(),
        }
    }

    /// `09:14`, the time of day (UTC) for a narration read from a seat.
    pub fn clock_time(self) -> String {
        let s = self.0.rem_euclid(86_400);
        format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
    }

    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`) or a bare date (`2026-01-01`, midnight UTC).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let t = text.trim();
        if let Ok(dt) =
            ::time::OffsetDateTime::parse(t, &::time::format_description::well_known::Rfc3339)
        {
            return Some(Timestamp(dt.unix_timestamp()));
        }
        // `az` also takes a date-time without an offset (UTC), with `T` or a space.
        let naive = t.replacen(' ', "T", 1);
        for f in [
            ::time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
            ::time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"
            ),
            ::time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        ] {
            if let Ok(dt) = ::time::PrimitiveDateTime::parse(&naive, &f) {
                return Some(Timestamp(dt.assume_utc().unix_timestamp()));
            }
        }
        let f = ::time::macros::format_description!("[year]-[month]-[day]");
        let d = ::time::Date::parse(t, &f).ok()?;
        Some(Timestamp(d.midnight().assume_utc().unix_timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display())
    }
}

/// The one ISO 8601 duration parser of the console, for durations of days and longer:
/// `P90D`, `P4W`, `P2Y`, `P1Y6M` (months as 30 days, years as 365), surrounding spaces
/// ignored. Every part is a run of ASCII digits followed by its unit; the arithmetic is
/// checked, so no text can overflow it (`None` instead). Callers bound the result to what
/// they allow (a backup retention is at most 10 years, a rotation policy 100).
pub fn parse_iso_duration(text: &str) -> Option<Duration> {
    let rest = text.trim().strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let mut days = 0i64;
    let mut number: Option<i64> = None;
    for c in rest.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(i64::from(digit))?,
            );
            continue;
        }
        let unit = match c {
            'Y' => 365,
            'M' => 30,
            'W' => 7,
            'D' => 1,
            _ => return None,
        };
        days = days.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None;
    }
    days.checked_mul(86_400).map(Duration)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_iso_duration_parser_with_its_edge_cases() {
        let days = |n| Some(Duration::days(n));
        assert_eq!(parse_iso_duration("P90D"), days(90));
        assert_eq!(parse_iso_duration("P4W"), days(28));
        assert_eq!(parse_iso_duration("P2Y"), days(730));
        assert_eq!(parse_iso_duration("P1Y6M"), days(545));
        assert_eq!(parse_iso_duration(" P10Y "), days(3650));
        assert_eq!(parse_iso_duration("P0D"), days(0));
        for bad in [
            "", "P", "90D", "4W", "P5X", "P4é", "PD", "P1", "P1D2", "P-1D", "P+1D", "p1d",
        ] {
            assert_eq!(parse_iso_duration(bad), None, "{bad:?}");
        }
        // Overflow in the number, the unit or the sum is refused, never a panic or a wrap.
        for huge in [
            "P9223372036854775808D",
            "P9223372036854775807Y",
            "P25269512401503998D",
            "P9223372036854775807D1D",
            "P106751991167301D",
        ] {
            assert_eq!(parse_iso_duration(huge), None, "{huge}");
        }
    }

    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(Duration::parse("20m"), Some(Duration::minutes(20)));
        assert_eq!(Duration::parse("9h"), Some(Duration::hours(9)));
        assert_eq!(Duration::parse("2d"), Some(Duration::days(2)));
        assert_eq!(Duration::parse("45"), Some(Duration::minutes(45)));
        assert_eq!(Duration::parse("x"), None);
        assert_eq!(Duration::parse("5y"), None);
    }

    #[test]
    fn iso_round_trip() {
        let t = Timestamp::parse("2026-01-01T09:00:00Z").unwrap();
        assert_eq!(t.to_iso(), "2026-01-01T09:00:00+00:00");
        assert_eq!(Timestamp::parse("2026-01-01").unwrap().0 + 9 * 3600, t.0);
        assert_eq!(Timestamp::parse("2026-01-01T09:00:00"), Some(t));
        assert_eq!(Timestamp::parse("2026-01-01 09:00:00"), Some(t));
        assert_eq!(Timestamp::parse("2026-01-01T09:00:00.000"), Some(t));
        assert_eq!(Timestamp::parse("2026-01-01T09:00"), Some(t));
    }
}
