//! Time as the core sees it: a count of seconds the adapter hands in.
//!
//! The core never reads a clock (on wasm32 `SystemTime::now()` panics, and tests must be
//! deterministic), so every function that needs "now" takes a [`UnixTime`].

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

/// A UTC calendar instant broken into fields, enough to print AWS and RFC 3339 timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: u32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl UnixTime {
    /// Whole days since the epoch; the SigV4 signing key changes when this does.
    pub fn day_number(self) -> u64 {
        self.0 / 86_400
    }

    pub fn plus_seconds(self, seconds: u64) -> UnixTime {
        UnixTime(self.0.saturating_add(seconds))
    }

    /// The IMF-fixdate of RFC 9110 section 5.6.7 (`Fri, 15 Jan 2027 08:00:00 GMT`), for
    /// `Last-Modified`.
    pub fn http_date(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let t = self.to_utc();
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[(self.day_number() % 7) as usize],
            t.day,
            MONTHS[usize::from(t.month.clamp(1, 12)) - 1],
            t.year,
            t.hour,
            t.minute,
            t.second
        )
    }

    /// Converts to a calendar date with Howard Hinnant's `civil_from_days` algorithm
    /// (exact for the whole proleptic Gregorian calendar, no tables, no allocation).
    pub fn to_utc(self) -> UtcDateTime {
        let days = self.day_number() as i64;
        let secs = self.0 % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
        UtcDateTime { year, month, day, hour: (secs / 3_600) as u8, minute: (secs / 60 % 60) as u8, second: (secs % 60) as u8 }
    }
}

impl UtcDateTime {
    /// `YYYYMMDD`, the date part of a SigV4 credential scope.
    pub fn amz_date_only(&self) -> [u8; 8] {
        let mut out = [b'0'; 8];
        put_digits(&mut out[0..4], self.year);
        put_digits(&mut out[4..6], self.month.into());
        put_digits(&mut out[6..8], self.day.into());
        out
    }

    /// `YYYYMMDDTHHMMSSZ`, the SigV4 `X-Amz-Date` format (ISO 8601 basic).
    pub fn amz_date_time(&self) -> [u8; 16] {
        let mut out = *b"00000000T000000Z";
        out[..8].copy_from_slice(&self.amz_date_only());
        put_digits(&mut out[9..11], self.hour.into());
        put_digits(&mut out[11..13], self.minute.into());
        put_digits(&mut out[13..15], self.second.into());
        out
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339), the `expiresAt` field of a response.
    pub fn rfc3339(&self) -> String {
        let mut out = *b"0000-00-00T00:00:00Z";
        put_digits(&mut out[0..4], self.year);
        put_digits(&mut out[5..7], self.month.into());
        put_digits(&mut out[8..10], self.day.into());
        put_digits(&mut out[11..13], self.hour.into());
        put_digits(&mut out[14..16], self.minute.into());
        put_digits(&mut out[17..19], self.second.into());
        out.iter().map(|&b| b as char).collect()
    }
}

/// Writes `value` as zero-padded decimal filling `out` (higher digits are dropped).
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_1970() {
        let t = UnixTime(0).to_utc();
        assert_eq!(&t.amz_date_time(), b"19700101T000000Z");
        assert_eq!(t.rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn http_dates() {
        // RFC 9110's own example, and the epoch (a Thursday).
        assert_eq!(UnixTime(784_111_777).http_date(), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(UnixTime(0).http_date(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(UnixTime(1_800_000_000).http_date(), "Fri, 15 Jan 2027 08:00:00 GMT");
    }

    #[test]
    fn aws_example_instant() {
        // 2013-05-24T00:00:00Z is the instant of the AWS SigV4 presign examples.
        let t = UnixTime(1_369_353_600).to_utc();
        assert_eq!(&t.amz_date_time(), b"20130524T000000Z");
        assert_eq!(&t.amz_date_only(), b"20130524");
    }

    #[test]
    fn leap_day_and_year_end() {
        assert_eq!(UnixTime(951_782_400).to_utc().rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UnixTime(1_798_761_599).to_utc().rfc3339(), "2026-12-31T23:59:59Z");
        assert_eq!(UnixTime(4_107_542_400).to_utc().rfc3339(), "2100-03-01T00:00:00Z");
    }
}
