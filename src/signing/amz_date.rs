//! `X-Amz-Date`: SigV4's `YYYYMMDD'T'HHMMSS'Z'`, written without a calendar
//! library, and the day it falls on (the signing key changes with it).

use super::SignError;

/// `X-Amz-Date`'s `YYYYMMDD'T'HHMMSS'Z'`, and the day it falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate {
    text: [u8; 16],
    day: u64,
}

impl AmzDate {
    /// The stamp for `secs` seconds after the Unix epoch; years past 9999
    /// have no four-digit form.
    pub fn new(secs: u64) -> Result<Self, SignError> {
        let day = secs / 86_400;
        let (year, month, date) = civil_from_days(day);
        if year > 9999 {
            return Err(SignError::Clock);
        }
        let seconds_of_day = secs % 86_400;
        let mut text = *b"00000000T000000Z";
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[4..6], month);
        put_digits(&mut text[6..8], date);
        put_digits(&mut text[9..11], seconds_of_day / 3600);
        put_digits(&mut text[11..13], seconds_of_day / 60 % 60);
        put_digits(&mut text[13..15], seconds_of_day % 60);
        Ok(Self { text, day })
    }

    /// `YYYYMMDD'T'HHMMSS'Z'`.
    #[must_use]
    pub fn date_time(&self) -> &str {
        // Only ASCII digits and letters were written.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// `YYYYMMDD`, the date of the credential scope.
    #[must_use]
    pub fn date(&self) -> &str {
        &self.date_time()[..8]
    }

    /// Days since the Unix epoch: the signing key changes with it.
    #[must_use]
    pub fn day(&self) -> u64 {
        self.day
    }
}

fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        // A digit, so the cast cannot truncate.
        *slot = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Year, month, day of a count of days since 1970-01-01, in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`, for days ≥ 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        let cases = [
            (0, "19700101T000000Z"),
            (951_782_400, "20000229T000000Z"),
            (1_700_000_000, "20231114T221320Z"),
            (1_709_251_199, "20240229T235959Z"),
            (4_102_444_800, "21000101T000000Z"),
            (253_402_300_799, "99991231T235959Z"),
        ];
        for (secs, text) in cases {
            let date = AmzDate::new(secs).unwrap();
            assert_eq!(date.date_time(), text);
            assert_eq!(date.date(), &text[..8]);
            assert_eq!(date.day(), secs / 86_400);
        }
        assert!(matches!(AmzDate::new(253_402_300_800), Err(SignError::Clock)));
    }
}
