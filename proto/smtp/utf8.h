// UTF-8 validation (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
#pragma once

#include <string_view>

namespace rm::smtp {

bool is_valid_utf8(std::string_view text);

}  // namespace rm::smtp
