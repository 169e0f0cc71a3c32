// DnsRecords: what a DNS response says about one name and record type, read from the
// response bytes (a pure function: no sockets, no clock). Types read: A, AAAA, MX, TXT, PTR.
//
// The answer section is followed from the question name through CNAMEs (a bounded chain)
// to the records of the asked type; their TTL is the smallest TTL along the way. For a
// negative answer the TTL comes from the SOA in the authority section (RFC 2308 §5: the
// smaller of the SOA's TTL and its MINIMUM field).
// Untrusted input: the bytes come from the network (a DNS server or whoever spoofs one).
// Every read is bounded by the message length; names are expanded by c-ares, which bounds
// compression pointers.
// Thread-safety: a pure function over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/net/cidr.h"

namespace rm {

enum class DnsType : uint16_t {
  kA = 1, kCname = 5, kSoa = 6, kPtr = 12, kMx = 15, kTxt = 16, kAaaa = 28,
};

// A TXT record with more character-strings than this is refused as malformed (a record
// holds at most 65535 bytes; real ones hold a few strings).
constexpr size_t kTxtStringsMax = 256;

constexpr uint8_t kRcodeNoError = 0;
constexpr uint8_t kRcodeServFail = 2;
constexpr uint8_t kRcodeNxDomain = 3;

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // lower case, no trailing dot; "" is the root (a null MX)
};

struct DnsRecords {
  uint8_t rcode = kRcodeNoError;
  std::vector<IpAddress> addresses;  // for kA / kAaaa
  std::vector<MxRecord> mx;          // for kMx
  // for kTxt: each record's character-strings, kept apart (SPF joins them, DKIM too)
  std::vector<std::vector<std::string>> txt;
  std::vector<std::string> names;    // for kPtr: lower case, no trailing dot
  std::optional<uint32_t> ttl_s;     // records: smallest TTL; negative: from the SOA if any
  bool empty() const { return addresses.empty() && mx.empty() && txt.empty() && names.empty(); }
};

// Lower case, without a trailing dot: the form names are compared and cached in.
std::string normalize_dns_name(std::string_view name);

// Reads `message` (a response to a question for `qname` and `type`). Fails with
// InvalidArgument when the message is malformed or truncated.
Result<DnsRecords> parse_dns_response(const uint8_t* message, size_t length, std::string_view qname,
                                      DnsType type);

}  // namespace rm
