// Fuzzes the DNS response reader (answers come from the network): any bytes, read as an
// answer to an MX, A or AAAA question, must be refused or read without a crash, and what it
// accepts must respect the limits (names of at most 253 characters).
#include <cstddef>
#include <cstdint>

#include "core/base/assert.h"
#include "core/dns/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  static constexpr rm::DnsType kTypes[] = {rm::DnsType::kMx, rm::DnsType::kA, rm::DnsType::kAaaa};
  const rm::DnsType type = kTypes[data[0] % 3];
  const rm::Result<rm::DnsRecords> records =
      rm::parse_dns_response(data + 1, size - 1, "example.org", type);
  if (records.ok()) {
    for (const rm::MxRecord& mx : records->mx) {
      RM_ASSERT(mx.exchange.size() <= 253);
    }
  }
  return 0;
}
