//! `date` and `sleep` on the simulated clock. `date` answers (always UTC) as GNU date prints
//! in the C locale: `date`, `date -u`, `date +FORMAT`, `date -I[date|hours|minutes|seconds]`,
//! `date -R`, and `-d`/`--date` with `@SECONDS`, `now`, an ISO 8601 date-time or `N unit[s]
//! [ago]`; reading a file's date (`-r`, `-f`) or setting the clock is refused. `sleep`
//! advances the simulated clock (Microsoft's samples `sleep 30m` for a restore point).

use crate::sim::Timestamp;

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What `date ARGS` prints at `now` (with its newline), or date's error.
pub fn date(now: Timestamp, args: &[String]) -> Result<String, String> {
    let mut format: Option<String> = None;
    let mut at = now;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let given_date = if a == "-d" || a == "--date" {
            let Some(v) = args.get(i) else {
                return Err(
                    "date: option requires an argument -- 'd'\nTry 'date --help' for more information."
                        .to_string(),
                );
            };
            i += 1;
            Some(v.as_str())
        } else if let Some(v) = a.strip_prefix("--date=") {
            Some(v)
        } else {
            a.strip_prefix("-d")
        };
        if let Some(text) = given_date {
            at = parse_date(now, text).ok_or_else(|| format!("date: invalid date '{text}'"))?;
            continue;
        }
        let iso = |spec: &str| -> Result<String, String> {
            Ok(match spec {
                "" | "date" => "%Y-%m-%d",
                "hours" => "%Y-%m-%dT%H%:z",
                "minutes" => "%Y-%m-%dT%H:%M%:z",
                "seconds" => "%Y-%m-%dT%H:%M:%S%:z",
                "ns" => "%Y-%m-%dT%H:%M:%S,%N%:z",
                other => {
                    return Err(format!(
                        "date: invalid argument '{other}' for '--iso-8601'\nValid arguments are:\n  - 'hours'\n  - 'minutes'\n  - 'date'\n  - 'seconds'\n  - 'ns'"
                    ));
                }
            }
            .to_string())
        };
        let next = if let Some(f) = a.strip_prefix('+') {
            f.to_string()
        } else {
            match a.as_str() {
                "-u" | "--utc" | "--universal" => continue,
                "-R" | "--rfc-email" => "%a, %d %b %Y %H:%M:%S %z".to_string(),
                "--rfc-3339=seconds" => "%Y-%m-%d %H:%M:%S%:z".to_string(),
                "--rfc-3339=date" => "%Y-%m-%d".to_string(),
                "-I" | "--iso-8601" => iso("")?,
                a if a.starts_with("--iso-8601=") => iso(&a["--iso-8601=".len()..])?,
                a if a.starts_with("-I") => iso(&a[2..])?,
                a if a.starts_with("-s")
                    || a.starts_with("--set")
                    || a.starts_with("-r")
                    || a.starts_with("--reference")
                    || a.starts_with("-f")
                    || a.starts_with("--file") =>
                {
                    return Err(format!(
                        "date: '{a}' is not supported here: date answers from the console's simulated clock only (date, date -u, date -d DATE, date +FORMAT, date -I, date -R)"
                    ));
                }
                a => {
                    return Err(format!(
                        "date: invalid date or option '{a}'\nTry 'date --help' for more information."
                    ));
                }
            }
        };
        if format.is_some() {
            return Err(format!(
                "date: extra operand '{a}'\nTry 'date --help' for more information."
            ));
        }
        format = Some(next);
    }
    let format = format.unwrap_or_else(|| "%a %b %e %H:%M:%S %Z %Y".to_string());
    Ok(strftime(at, &format) + "\n")
}

/// A date as `date -d` reads it: `@SECONDS`, `now`, `today`, an ISO 8601 date or date-time,
/// or a relative `[+|-]N unit[s] [ago]` (seconds, minutes, hours, days, weeks).
fn parse_date(now: Timestamp, text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Some(secs) = t.strip_prefix('@') {
        return secs.trim().parse::<i64>().ok().map(Timestamp);
    }
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Some(now);
    }
    if t.eq_ignore_ascii_case("today") {
        return Some(now);
    }
    if let Some(ts) = Timestamp::parse(t) {
        return Some(ts);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    let (n, unit, ago) = match words.as_slice() {
        [n, unit] => (*n, *unit, false),
        [n, unit, "ago"] => (*n, *unit, true),
        _ => return None,
    };
    let n: i64 = n.trim_start_matches('+').parse().ok()?;
    let unit = unit.trim_end_matches('s').to_ascii_lowercase();
    let scale = match unit.as_str() {
        "sec" | "second" => 1,
        "min" | "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 7 * 86_400,
        _ => return None,
    };
    let delta = n.checked_mul(scale)?;
    let delta = if ago { delta.checked_neg()? } else { delta };
    now.0.checked_add(delta).map(Timestamp)
}

/// The seconds `sleep ARGS` waits, as GNU sleep reads them: each a number (fractions allowed)
/// with an optional suffix `s`, `m`, `h` or `d`; several are added up.
pub fn sleep_seconds(args: &[String]) -> Result<i64, String> {
    if args.is_empty() {
        return Err("sleep: missing operand\nTry 'sleep --help' for more information.".into());
    }
    let mut total = 0f64;
    for a in args {
        let (number, scale) = match a.char_indices().last() {
            Some((i, 's')) => (&a[..i], 1.0),
            Some((i, 'm')) => (&a[..i], 60.0),
            Some((i, 'h')) => (&a[..i], 3600.0),
            Some((i, 'd')) => (&a[..i], 86_400.0),
            _ => (a.as_str(), 1.0),
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                format!(
                    "sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information."
                )
            })?;
        total += value * scale;
    }
    // A simulated year is more than any script waits for.
    if total > 366.0 * 86_400.0 {
        return Err(format!(
            "sleep: {} seconds is longer than the simulated clock advances at once (a year)",
            total as i64
        ));
    }
    Ok(total.ceil() as i64)
}

/// GNU date's conversions over a UTC instant; unknown ones are printed as they are.
pub fn strftime(now: Timestamp, format: &str) -> String {
    let Ok(t) = ::time::OffsetDateTime::from_unix_timestamp(now.0) else {
        return now.0.to_string();
    };
    let weekday = t.weekday().number_days_from_monday() as usize;
    let month = t.month() as usize - 1;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let s = match spec {
            '%' => "%".to_string(),
            'a' => DAYS[weekday][..3].to_string(),
            'A' => DAYS[weekday].to_string(),
            'b' | 'h' => MONTHS[month][..3].to_string(),
            'B' => MONTHS[month].to_string(),
            'c' => strftime(now, "%a %b %e %H:%M:%S %Y"),
            'C' => format!("{:02}", t.year() / 100),
            'd' => format!("{:02}", t.day()),
            'D' => strftime(now, "%m/%d/%y"),
            'e' => format!("{:2}", t.day()),
            'F' => strftime(now, "%Y-%m-%d"),
            'H' => format!("{:02}", t.hour()),
            'I' => format!("{hour12:02}"),
            'j' => format!("{:03}", t.ordinal()),
            'k' => format!("{:2}", t.hour()),
            'l' => format!("{hour12:2}"),
            'm' => format!("{:02}", month + 1),
            'M' => format!("{:02}", t.minute()),
            'n' => "\n".to_string(),
            'N' => "000000000".to_string(),
            'p' => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            'P' => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
            'R' => strftime(now, "%H:%M"),
            's' => now.0.to_string(),
            'S' => format!("{:02}", t.second()),
            't' => "\t".to_string(),
            'T' => strftime(now, "%H:%M:%S"),
            'u' => (weekday + 1).to_string(),
            'w' => ((weekday + 1) % 7).to_string(),
            'y' => format!("{:02}", t.year() % 100),
            'Y' => t.year().to_string(),
            'z' => "+0000".to_string(),
            'Z' => "UTC".to_string(),
            ':' if chars.peek() == Some(&'z') => {
                chars.next();
                "+00:00".to_string()
            }
            other => format!("%{other}"),
        };
        out.push_str(&s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(args: &[&str]) -> Result<String, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // 2026-01-01T09:00:00Z, a Thursday.
        date(Timestamp(1_767_258_000), &args)
    }

    #[test]
    fn formats_as_gnu_date_in_the_c_locale() {
        assert_eq!(d(&[]).unwrap(), "Thu Jan  1 09:00:00 UTC 2026\n");
        assert_eq!(d(&["-u"]).unwrap(), "Thu Jan  1 09:00:00 UTC 2026\n");
        assert_eq!(d(&["+%s"]).unwrap(), "1767258000\n");
        assert_eq!(
            d(&["+%Y-%m-%d %H:%M:%S %j %a %A %B %y %I%p %u %w %%"]).unwrap(),
            "2026-01-01 09:00:00 001 Thu Thursday January 26 09AM 4 4 %\n"
        );
        assert_eq!(d(&["-I"]).unwrap(), "2026-01-01\n");
        assert_eq!(
            d(&["--iso-8601=seconds"]).unwrap(),
            "2026-01-01T09:00:00+00:00\n"
        );
        assert_eq!(d(&["-R"]).unwrap(), "Thu, 01 Jan 2026 09:00:00 +0000\n");
        assert_eq!(d(&["+%q%"]).unwrap(), "%q%\n");
    }

    #[test]
    fn dates_given_with_d_and_sleep_intervals() {
        let at = |args: &[&str]| {
            let words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            date(Timestamp(1_767_225_600), &words)
        };
        // Microsoft's restore sample: a restore point a minute before now.
        assert_eq!(
            at(&["-d", "@1767225540", "+%Y-%m-%dT%T"]).unwrap(),
            "2025-12-31T23:59:00\n"
        );
        assert_eq!(at(&["--date=1 hour ago", "+%H"]).unwrap(), "23\n");
        assert_eq!(at(&["-d", "2026-03-01", "+%F"]).unwrap(), "2026-03-01\n");
        assert!(at(&["-d", "yesterday-ish"]).is_err());
        assert!(at(&["-d"]).is_err());
        let s =
            |args: &[&str]| sleep_seconds(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["30m"]), Ok(1800));
        assert_eq!(s(&["1h", "30", "0.5s"]), Ok(3631));
        assert!(s(&[]).is_err());
        assert!(s(&["-1"]).is_err());
        assert!(s(&["1x"]).is_err());
        assert!(s(&["400d"]).is_err());
    }

    #[test]
    fn other_dates_and_options_are_refused() {
        assert_eq!(
            d(&["-d", "tomorrow"]).unwrap_err(),
            "date: invalid date 'tomorrow'"
        );
        assert!(d(&["-r", "file"]).unwrap_err().contains("simulated clock"));
        assert!(d(&["--bogus"]).unwrap_err().contains("invalid"));
        assert!(d(&["+%s", "+%s"]).unwrap_err().contains("extra operand"));
        assert!(d(&["-Ibogus"]).is_err());
    }
}
