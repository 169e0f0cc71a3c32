#include "proto/imap/date_time.h"

#include <cstdio>

namespace rm::imap {
namespace {

constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_from_name(std::string_view s) {
  if (s.size() != 3) {
    return 0;
  }
  for (int m = 0; m < 12; ++m) {
    bool same = true;
    for (size_t k = 0; k < 3; ++k) {
      same = same && (s[k] | 0x20) == kMonths[m][k];
    }
    if (same) {
      return m + 1;
    }
  }
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `n` digits.
bool digits(std::string_view& s, size_t n, int& out) {
  if (s.size() < n) {
    return false;
  }
  out = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!is_digit(s[k])) {
      return false;
    }
    out = out * 10 + (s[k] - '0');
  }
  s.remove_prefix(n);
  return true;
}

// Reads 1..max digits.
bool some_digits(std::string_view& s, size_t max, int& out) {
  size_t n = 0;
  while (n < s.size() && n < max && is_digit(s[n])) {
    ++n;
  }
  return n > 0 && digits(s, n, out);
}

bool take(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) {
    return false;
  }
  s.remove_prefix(1);
  return true;
}

unsigned days_in_month(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool valid_date(int year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         static_cast<unsigned>(day) <= days_in_month(year, static_cast<unsigned>(month));
}

void civil_from_days(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

int32_t days_from_civil(int year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

int32_t day_of(int64_t unix_s, int zone_minutes) {
  return static_cast<int32_t>(floor_div(unix_s + int64_t{zone_minutes} * 60, 86400));
}

std::optional<int32_t> parse_date(std::string_view s) {
  int day, year;
  if (!some_digits(s, 2, day) || !take(s, '-') || s.size() < 4) {
    return std::nullopt;
  }
  const int month = month_from_name(s.substr(0, 3));
  s.remove_prefix(3);
  if (month == 0 || !take(s, '-') || !digits(s, 4, year) || !s.empty() ||
      !valid_date(year, month, day)) {
    return std::nullopt;
  }
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

std::optional<ParsedDateTime> parse_date_time(std::string_view s) {
  int day, year, hh, mm, ss, zone;
  if (!s.empty() && s[0] == ' ') {
    s.remove_prefix(1);
    if (!digits(s, 1, day)) {
      return std::nullopt;
    }
  } else if (!some_digits(s, 2, day)) {
    return std::nullopt;
  }
  if (!take(s, '-') || s.size() < 3) {
    return std::nullopt;
  }
  const int month = month_from_name(s.substr(0, 3));
  s.remove_prefix(3);
  if (month == 0 || !take(s, '-') || !digits(s, 4, year) || !take(s, ' ') || !digits(s, 2, hh) ||
      !take(s, ':') || !digits(s, 2, mm) || !take(s, ':') || !digits(s, 2, ss) || !take(s, ' ') ||
      s.empty() || (s[0] != '+' && s[0] != '-')) {
    return std::nullopt;
  }
  const bool negative = s[0] == '-';
  s.remove_prefix(1);
  if (!digits(s, 4, zone) || !s.empty() || !valid_date(year, month, day) || hh > 23 || mm > 59 ||
      ss > 60 || zone % 100 > 59) {
    return std::nullopt;
  }
  ParsedDateTime out;
  out.zone_minutes = (zone / 100 * 60 + zone % 100) * (negative ? -1 : 1);
  const int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  out.unix_s = days * 86400 + hh * 3600 + mm * 60 + ss - int64_t{out.zone_minutes} * 60;
  return out;
}

std::string format_date_time(int64_t unix_s, int zone_minutes) {
  const int64_t local = unix_s + int64_t{zone_minutes} * 60;
  const int64_t days = floor_div(local, 86400);
  const int64_t secs = local - days * 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const int zabs = zone_minutes < 0 ? -zone_minutes : zone_minutes;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02u-%s-%04d %02d:%02d:%02d %c%02d%02d", d, kMonthNames[m - 1],
                y, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), zone_minutes < 0 ? '-' : '+', zabs / 60 % 100,
                zabs % 60);
  return buf;
}

namespace {

// Skips white space and RFC 5322 comments (nesting bounded).
void skip_cfws(std::string_view& s) {
  while (!s.empty()) {
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
      s.remove_prefix(1);
    } else if (s[0] == '(') {
      int depth = 0;
      size_t k = 0;
      for (; k < s.size(); ++k) {
        if (s[k] == '\\') {
          ++k;
        } else if (s[k] == '(') {
          ++depth;
        } else if (s[k] == ')' && --depth == 0) {
          break;
        }
      }
      s.remove_prefix(k < s.size() ? k + 1 : s.size());
    } else {
      return;
    }
  }
}

}  // namespace

std::optional<int32_t> parse_rfc5322_day(std::string_view s) {
  skip_cfws(s);
  // Optional "Tue," weekday.
  if (!s.empty() && !is_digit(s[0])) {
    const size_t comma = s.find(',');
    if (comma == std::string_view::npos || comma > 12) {
      return std::nullopt;
    }
    s.remove_prefix(comma + 1);
    skip_cfws(s);
  }
  int day, year;
  if (!some_digits(s, 2, day)) {
    return std::nullopt;
  }
  skip_cfws(s);
  if (s.size() < 3) {
    return std::nullopt;
  }
  const int month = month_from_name(s.substr(0, 3));
  s.remove_prefix(3);
  skip_cfws(s);
  size_t n = 0;
  while (n < s.size() && n < 4 && is_digit(s[n])) {
    ++n;
  }
  if (n < 2 || !digits(s, n, year)) {
    return std::nullopt;
  }
  if (n == 2) {
    year += year < 50 ? 2000 : 1900;
  } else if (n == 3) {
    year += 1900;
  }
  if (month == 0 || !valid_date(year, month, day)) {
    return std::nullopt;
  }
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

}  // namespace rm::imap
