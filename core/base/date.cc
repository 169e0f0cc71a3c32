#include "core/base/date.h"

#include <cstdio>
#include <ctime>

namespace rm {

std::string rfc5322_date(int64_t unix_s) {
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t t = static_cast<time_t>(unix_s);
  struct tm tm;
  if (::gmtime_r(&t, &tm) == nullptr) {
    return "Thu, 01 Jan 1970 00:00:00 +0000";
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kWeekdays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace rm
