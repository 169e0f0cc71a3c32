// Fuzzes DKIM body canonicalization differentially: the body hash and canonical length from
// the portable scan in one piece must equal those of every scanner and block mode the CPU
// has, fed in one piece and in pieces of a size the input chooses, with and without l=.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/assert.h"
#include "proto/dkim/body_canon.h"

namespace {

struct Result {
  rm::Sha256::Digest digest;
  uint64_t length;
};

Result hash(std::string_view body, rm::DkimCanon canon, rm::DkimBodyScan scan, uint64_t limit,
            size_t step) {
  rm::DkimBodyHasher h(canon, limit, scan);
  for (size_t pos = 0; pos < body.size(); pos += step) {
    h.update(body.substr(pos, step));
  }
  Result r;
  r.digest = h.finish();
  r.length = h.canonical_length();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const rm::DkimCanon canon = (data[0] & 1) ? rm::DkimCanon::kRelaxed : rm::DkimCanon::kSimple;
  const size_t step = 1 + (data[0] >> 1);
  const uint64_t limit = data[1] == 0 ? UINT64_MAX : data[1] * 7u;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t whole = body.empty() ? 1 : body.size();
  const Result want = hash(body, canon, rm::DkimBodyScan::kPortable, limit, whole);
  for (rm::DkimBodyScan scan : {rm::DkimBodyScan::kPortable, rm::DkimBodyScan::kSse2,
                                rm::DkimBodyScan::kAvx2, rm::DkimBodyScan::kAvx512}) {
    if (!rm::DkimBodyHasher::scan_supported(scan)) {
      continue;
    }
    for (size_t piece : {whole, step}) {
      const Result got = hash(body, canon, scan, limit, piece);
      RM_ASSERT(got.digest == want.digest);
      RM_ASSERT(got.length == want.length);
    }
  }
  return 0;
}
