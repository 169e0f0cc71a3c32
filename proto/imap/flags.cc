#include "proto/imap/flags.h"

#include "proto/imap/char_class.h"

namespace rm::imap {
namespace {

struct SystemFlagName {
  std::string_view name;
  SystemFlag flag;
};
constexpr SystemFlagName kSystemFlags[] = {
    {"\\Seen", kFlagSeen},       {"\\Answered", kFlagAnswered}, {"\\Flagged", kFlagFlagged},
    {"\\Deleted", kFlagDeleted}, {"\\Draft", kFlagDraft},       {"\\Recent", kFlagRecent},
};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t k = 0; k < a.size(); ++k) {
    char x = a[k], y = b[k];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x + 32);
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y + 32);
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}


}  // namespace

uint32_t system_flag_from_name(std::string_view name, bool allow_recent) {
  for (const SystemFlagName& f : kSystemFlags) {
    if (iequal(name, f.name)) {
      return f.flag == kFlagRecent && !allow_recent ? 0u : static_cast<uint32_t>(f.flag);
    }
  }
  return 0;
}

std::string_view system_flag_name(SystemFlag flag) {
  for (const SystemFlagName& f : kSystemFlags) {
    if (f.flag == flag) {
      return f.name;
    }
  }
  return {};
}

bool is_valid_keyword(std::string_view keyword) {
  if (keyword.empty() || keyword.size() > kKeywordBytesMax) {
    return false;
  }
  for (char c : keyword) {
    if (!is_atom_char(c)) {
      return false;
    }
  }
  return true;
}

bool keyword_equal(std::string_view a, std::string_view b) {
  return iequal(a, b);
}

bool add_flag(FlagList& list, std::string_view token) {
  if (!token.empty() && token[0] == '\\') {
    const uint32_t bit = system_flag_from_name(token);
    list.system |= bit;
    return bit != 0;
  }
  if (!is_valid_keyword(token)) {
    return false;
  }
  for (const std::string& k : list.keywords) {
    if (keyword_equal(k, token)) {
      return true;
    }
  }
  if (list.keywords.size() >= kFlagsPerListMax) {
    return false;
  }
  list.keywords.emplace_back(token);
  return true;
}

void append_flag_list(std::string& out, const FlagList& flags) {
  out.push_back('(');
  bool first = true;
  for (const SystemFlagName& f : kSystemFlags) {
    if ((flags.system & f.flag) != 0) {
      if (!first) {
        out.push_back(' ');
      }
      out.append(f.name);
      first = false;
    }
  }
  for (const std::string& k : flags.keywords) {
    if (!first) {
      out.push_back(' ');
    }
    out.append(k);
    first = false;
  }
  out.push_back(')');
}

}  // namespace rm::imap
