// Fuzzes the DATA decoder: the result must not depend on how the input is split, the
// decoder must stop exactly after "<CRLF>.<CRLF>", and the body must respect the size limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "proto/smtp/data_decoder.h"

namespace {

struct Outcome {
  std::string body;
  size_t consumed = 0;
  bool done = false;
  bool bare = false;
};

Outcome run(std::string_view input, size_t step, rm::smtp::BareLinePolicy policy) {
  rm::smtp::DataDecoder decoder(policy, 4096);
  Outcome o;
  while (o.consumed < input.size() && !decoder.done()) {
    o.consumed += decoder.feed(input.substr(o.consumed, step), o.body);
  }
  o.done = decoder.done();
  o.bare = decoder.saw_bare_line_end();
  RM_ASSERT(o.body.size() <= 4096);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t step = 1 + data[0] % 17;
  const auto policy = (data[0] & 0x80) ? rm::smtp::BareLinePolicy::kNormalize
                                       : rm::smtp::BareLinePolicy::kReject;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = run(input, input.size() + 1, policy);
  const Outcome split = run(input, step, policy);
  RM_ASSERT(whole.body == split.body && whole.consumed == split.consumed);
  RM_ASSERT(whole.done == split.done && whole.bare == split.bare);
  if (whole.done) {
    // The consumed input ends with the end-of-data line, and only a real CRLF precedes it.
    const std::string_view used = input.substr(0, whole.consumed);
    RM_ASSERT(used.size() >= 3 && used.substr(used.size() - 3) == ".\r\n");
    RM_ASSERT(used.size() == 3 || used.substr(used.size() - 5, 2) == "\r\n");
  }
  return 0;
}
