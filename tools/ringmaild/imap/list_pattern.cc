#include "tools/ringmaild/imap/list_pattern.h"

#include <vector>

namespace rm {
namespace {

bool is_inbox_prefix(std::string_view s) {
  if (s.size() < 5) return false;
  for (size_t i = 0; i < 5; ++i) {
    const char c = static_cast<char>(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    if (c != "INBOX"[i]) return false;
  }
  return s.size() == 5 || s[5] == '/';
}

}  // namespace

// Dynamic programming over (pattern position, name position): reachable[j] says whether the
// pattern prefix matched so far can end at name position j.
bool list_pattern_matches(std::string_view pattern, std::string_view name, char delimiter) {
  std::string p(pattern);
  if (is_inbox_prefix(p)) {
    for (size_t i = 0; i < 5; ++i) p[i] = "INBOX"[i];
  }
  std::vector<char> reachable(name.size() + 1, 0);
  reachable[0] = 1;
  for (char pc : p) {
    std::vector<char> next(name.size() + 1, 0);
    if (pc == '*' || pc == '%') {
      bool carry = false;
      for (size_t j = 0; j <= name.size(); ++j) {
        carry = carry || reachable[j];
        next[j] = carry;
        if (pc == '%' && j < name.size() && name[j] == delimiter) carry = false;
      }
    } else {
      for (size_t j = 0; j < name.size(); ++j) {
        if (reachable[j] && name[j] == pc) next[j + 1] = 1;
      }
    }
    reachable.swap(next);
  }
  return reachable[name.size()] != 0;
}

std::string list_full_pattern(std::string_view reference, std::string_view pattern,
                              char delimiter) {
  if (reference.empty() || (!pattern.empty() && pattern[0] == delimiter)) {
    return std::string(pattern);
  }
  // The reference is a plain prefix, its delimiter (if any) included (RFC 9051 §6.3.9).
  std::string out(reference);
  out.append(pattern);
  return out;
}

}  // namespace rm
