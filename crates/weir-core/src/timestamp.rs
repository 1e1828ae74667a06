//! Flink's text form of a `TIMESTAMP(3)`: `yyyy-MM-dd HH:mm:ss.SSS`, in UTC, written without a
//! format string (the Nexmark files and SQL sinks write millions of them).

use std::fmt::Write;

const MS_PER_DAY: i64 = 86_400_000;

/// Appends `ms` (since the epoch, UTC) to `out` as `yyyy-MM-dd HH:mm:ss.SSS`.
pub fn write_timestamp(out: &mut String, ms: i64) {
    let (days, ms_of_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_date(days);
    let (secs, millis) = (ms_of_day / 1000, ms_of_day % 1000);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// The proleptic Gregorian date of day `days` since 1970-01-01: shifts the calendar to
/// start in March, so that the leap day ends each 4-, 100- and 400-year cycle.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ms: i64) -> String {
        let mut s = String::new();
        write_timestamp(&mut s, ms);
        s
    }

    #[test]
    fn timestamps_print_like_flink() {
        assert_eq!(text(0), "1970-01-01 00:00:00.000");
        assert_eq!(text(1_704_067_200_000), "2024-01-01 00:00:00.000");
        assert_eq!(text(1_709_210_096_789), "2024-02-29 12:34:56.789");
        assert_eq!(text(951_782_400_000), "2000-02-29 00:00:00.000");
        assert_eq!(text(-1), "1969-12-31 23:59:59.999");
        assert_eq!(text(4_102_444_800_000), "2100-01-01 00:00:00.000");
    }
}
