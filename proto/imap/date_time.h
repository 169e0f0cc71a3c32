// IMAP dates: date-time (INTERNALDATE, APPEND) and date (SEARCH), RFC 9051 §9, and the day
// of an RFC 5322 Date header (SEARCH SENTBEFORE/SENTON/SENTSINCE).
//
// Days are counted from 1970-01-01 (day 0), instants are Unix seconds. Conversions are
// proleptic Gregorian arithmetic; no time-zone database or clock is read: zone offsets are
// given in minutes east of UTC.
//
//   format_date_time(837596665, -420) == "17-Jul-1996 02:44:25 -0700"
//   parse_date("1-Feb-1994") -> days
// Untrusted input: yes (parse functions). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm::imap {

struct ParsedDateTime {
  int64_t unix_s = 0;    // the instant (UTC)
  int zone_minutes = 0;  // the zone it was written in, minutes east of UTC
};

// Days since 1970-01-01 for a civil date; no range check.
int32_t days_from_civil(int year, unsigned month, unsigned day);

// date-time without its quotes: "17-Jul-1996 02:44:25 -0700" (day may be " 7" or "7").
std::optional<ParsedDateTime> parse_date_time(std::string_view text);
// "17-Jul-1996 02:44:25 -0700" for the instant seen in the given zone (no quotes).
std::string format_date_time(int64_t unix_s, int zone_minutes);

// date: "1-Feb-1994" or "01-Feb-1994" (no quotes). Returns days since 1970-01-01.
std::optional<int32_t> parse_date(std::string_view text);

// The calendar day written in an RFC 5322 date ("Tue, 1 Jul 2003 10:52:37 +0200" -> the day
// of 2003-07-01, in the header's own zone, as RFC 9051 SENT* keys require). Tolerates a
// missing weekday, comments and two-digit years (RFC 5322 §4.3).
std::optional<int32_t> parse_rfc5322_day(std::string_view text);

// The day an instant falls on in a zone (minutes east of UTC).
int32_t day_of(int64_t unix_s, int zone_minutes);

}  // namespace rm::imap
