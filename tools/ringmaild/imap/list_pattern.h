// LIST patterns (RFC 9051 §6.3.9): "*" matches anything, "%" anything but the hierarchy
// delimiter; the reference is prefixed to the pattern. Matching is iterative (no
// backtracking blow-up: a pattern of many wildcards costs O(name × pattern)).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace rm {

bool list_pattern_matches(std::string_view pattern, std::string_view name, char delimiter = '/');
// The reference and pattern as one pattern ("Archive/" + "%").
std::string list_full_pattern(std::string_view reference, std::string_view pattern,
                              char delimiter = '/');

}  // namespace rm
