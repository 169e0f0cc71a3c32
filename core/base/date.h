// Dates as mail headers write them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace rm {

// RFC 5322 §3.3 in UTC: "Tue, 14 Nov 2023 22:13:20 +0000" (English names, whatever the
// locale).
std::string rfc5322_date(int64_t unix_s);

}  // namespace rm
