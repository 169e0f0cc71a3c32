// Fuzzes SRS with any address: reversal must not crash and its result stays within the
// limit; forwarding a plain (non-SRS) address and reversing the result gives the address
// back; forwarding an SRS0 address gives an SRS1 address whose reversal is that SRS0 address
// (its "SRS0" tag in upper case).
// Input layout: byte 0 picks the separator (bits 0-1), the hash length (bits 2-4) and the
// day (bits 5-7, added to a fixed time); the rest is the address.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "proto/srs/srs.h"

namespace {

using rm::srs::Rewritten;
using rm::srs::Srs;
using rm::srs::SrsOptions;

constexpr int64_t kBase = 1577836860;

bool iequals_prefix4(std::string_view a, std::string_view b) {
  for (size_t i = 0; i < 4; ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view address(reinterpret_cast<const char*>(data + 1), size - 1);
  SrsOptions o;
  o.separator = "=+-="[flags & 3];
  o.hash_length = 1 + ((flags >> 2) & 7) * 3;
  o.hash_min = 1;
  Srs srs = std::move(Srs::create({"fuzz secret", "older"}, o)).value();
  const int64_t now = kBase + static_cast<int64_t>(flags >> 5) * 86400;

  Rewritten back = srs.reverse(address, now);
  RM_ASSERT(!back.ok() || back.address.size() <= rm::srs::kAddressBytesMax);

  Rewritten fwd = srs.forward(address, "forwarder.example", now);
  if (!fwd.ok() || fwd.address == address) {
    return 0;
  }
  RM_ASSERT(fwd.address.size() <= rm::srs::kAddressBytesMax);
  RM_ASSERT(Srs::is_srs(fwd.address));
  Rewritten round = srs.reverse(fwd.address, now);
  std::string_view local = address.substr(0, address.rfind('@'));
  bool was_srs = Srs::is_srs(address);
  if (!was_srs) {
    RM_ASSERT(round.ok() && round.address == address);
  } else if (local[3] == '0') {
    RM_ASSERT(round.ok() && round.address.size() == address.size());
    RM_ASSERT(iequals_prefix4(round.address, address));
    RM_ASSERT(std::string_view(round.address).substr(4) == address.substr(4));
  }
  return 0;
}
