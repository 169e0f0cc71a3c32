// SPF record parser (RFC 7208 §4.5, §4.6, §5, §6): the text of one TXT record in, the
// mechanisms and modifiers out, or an error (which check_host() reports as "permerror").
//
//   if (spf::is_spf_record(txt)) {
//     Result<spf::Record> record = spf::parse_record(txt);  // !ok(): permerror
//   }
//
// The whole record is checked before anything is evaluated (§4.6: a syntax error anywhere
// is a permerror), including the macro syntax of every domain-spec and modifier value.
// Domain-specs are kept unexpanded: the evaluator expands them (macro.h).
// Untrusted input: yes — a record published by anyone in the DNS. Bounded by
// kRecordBytesMax and kTermsMax.
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/net/cidr.h"

namespace rm::spf {

// A TXT record longer than this is refused (a UDP answer holds far less; TCP allows 64 KiB).
constexpr size_t kRecordBytesMax = 8192;
constexpr size_t kTermsMax = 256;

enum class Qualifier : uint8_t { kPass, kFail, kSoftFail, kNeutral };
enum class MechanismKind : uint8_t { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

struct Mechanism {
  Qualifier qualifier = Qualifier::kPass;
  MechanismKind kind = MechanismKind::kAll;
  std::string domain_spec;   // unexpanded; "" means the current domain (a, mx, ptr)
  IpAddress network;         // ip4 / ip6
  uint8_t ip4_prefix = 32;   // ip4, a, mx
  uint8_t ip6_prefix = 128;  // ip6, a, mx
  std::string text;          // the term as written, for reports ("-ip4:192.0.2.0/24")
};

struct Record {
  std::vector<Mechanism> mechanisms;    // in record order
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
};

// True when `text` starts with "v=spf1" (any case) followed by a space or the end (§4.5).
bool is_spf_record(std::string_view text);

// Parses an SPF record (which must pass is_spf_record). InvalidArgument says what is wrong.
Result<Record> parse_record(std::string_view text);

// "pass", "fail", ... for a qualifier's result.
std::string_view qualifier_name(Qualifier qualifier);

}  // namespace rm::spf
