// IMAP message flags: the system flags as bits, keywords as atoms (RFC 9051 §2.3.2).
//
// A FlagList is what a STORE, APPEND or SEARCH names: system flags ("\Seen") as bits and
// keywords ("$Forwarded", "NonJunk") as strings, validated as atoms and capped in count and
// length. System flags are matched case-insensitively; keywords keep their spelling (servers
// compare them case-insensitively too, see keyword_equal()).
// Untrusted input: yes (flags from commands). Thread-safety: values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rm::imap {

enum SystemFlag : uint32_t {
  kFlagSeen = 1u << 0,
  kFlagAnswered = 1u << 1,
  kFlagFlagged = 1u << 2,
  kFlagDeleted = 1u << 3,
  kFlagDraft = 1u << 4,
  kFlagRecent = 1u << 5,  // rev1 only; never stored by a client
};

inline constexpr size_t kFlagsPerListMax = 128;
inline constexpr size_t kKeywordBytesMax = 256;

struct FlagList {
  uint32_t system = 0;                // SystemFlag bits
  std::vector<std::string> keywords;  // unique (case-insensitively), in the client's order
  bool operator==(const FlagList&) const = default;
};

// "\Seen" -> kFlagSeen (case-insensitive); 0 when not a system flag (including "\Recent"
// when `allow_recent` is false and unknown "\Foo" extension flags).
uint32_t system_flag_from_name(std::string_view name, bool allow_recent = false);
std::string_view system_flag_name(SystemFlag flag);

// An atom that may be a keyword: 1..kKeywordBytesMax ATOM-CHARs, no '\\'.
bool is_valid_keyword(std::string_view keyword);
bool keyword_equal(std::string_view a, std::string_view b);

// Adds one flag token ("\Seen", "$Junk") to `list`. False when it is neither a system flag
// nor a valid keyword, or when the list is full.
bool add_flag(FlagList& list, std::string_view token);

// "(\Seen \Answered $Forwarded)", appended to `out`.
void append_flag_list(std::string& out, const FlagList& flags);

}  // namespace rm::imap
