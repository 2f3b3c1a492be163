//! `date`, answered from the simulated clock (always UTC), as GNU date prints in the C
//! locale: `date`, `date -u`, `date +FORMAT`, `date -I[date|hours|minutes|seconds]`,
//! `date -R`. Reading another date (`-d`, `-r`, `-f`) or setting one is refused.

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
    for a in args {
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
                a if a.starts_with("-d")
                    || a.starts_with("--date")
                    || a.starts_with("-s")
                    || a.starts_with("--set")
                    || a.starts_with("-r")
                    || a.starts_with("--reference")
                    || a.starts_with("-f")
                    || a.starts_with("--file") =>
                {
                    return Err(format!(
                        "date: '{a}' is not supported here: date answers from the console's simulated clock only (date, date -u, date +FORMAT, date -I, date -R)"
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
    Ok(strftime(now, &format) + "\n")
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
    fn other_dates_and_options_are_refused() {
        assert!(
            d(&["-d", "tomorrow"])
                .unwrap_err()
                .contains("simulated clock")
        );
        assert!(d(&["--bogus"]).unwrap_err().contains("invalid"));
        assert!(d(&["+%s", "+%s"]).unwrap_err().contains("extra operand"));
        assert!(d(&["-Ibogus"]).is_err());
    }
}
