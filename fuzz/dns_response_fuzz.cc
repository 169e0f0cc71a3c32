// Fuzzes the DNS response reader (answers come from the network): any bytes, read as an
// answer to an MX, A, AAAA, TXT or PTR question, must be refused or read without a crash,
// and what it accepts must respect the limits (names of at most 253 characters, at most
// kTxtStringsMax strings in a TXT record).
#include <cstddef>
#include <cstdint>

#include "core/base/assert.h"
#include "core/dns/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  static constexpr rm::DnsType kTypes[] = {rm::DnsType::kMx, rm::DnsType::kA, rm::DnsType::kAaaa,
                                           rm::DnsType::kTxt, rm::DnsType::kPtr};
  const rm::DnsType type = kTypes[data[0] % 5];
  const rm::Result<rm::DnsRecords> records =
      rm::parse_dns_response(data + 1, size - 1, "example.org", type);
  if (records.ok()) {
    for (const rm::MxRecord& mx : records->mx) {
      RM_ASSERT(mx.exchange.size() <= 253);
    }
    for (const std::string& name : records->names) {
      RM_ASSERT(name.size() <= 253);
    }
    for (const std::vector<std::string>& strings : records->txt) {
      RM_ASSERT(strings.size() <= rm::kTxtStringsMax);
    }
  }
  return 0;
}
