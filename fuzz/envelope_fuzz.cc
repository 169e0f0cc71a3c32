// Fuzzes decode_envelope (bytes read back from disk, possibly corrupt): it must refuse or
// accept without crashing, refusals must say "corrupt envelope", and whatever it accepts must
// re-encode to exactly the input (the format has one encoding per envelope) and decode again
// to the same envelope.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "store/queue/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const rm::Result<rm::Envelope> decoded = rm::decode_envelope(input);
  if (!decoded.ok()) {
    RM_ASSERT(decoded.status().code() == rm::StatusCode::kInvalidArgument);
    RM_ASSERT(decoded.status().message().substr(0, 17) == "corrupt envelope:");
    return 0;
  }
  RM_ASSERT_MSG(rm::validate_envelope(*decoded).ok(), "decoded an envelope beyond the limits");
  const std::string encoded = rm::encode_envelope(*decoded);
  RM_ASSERT_MSG(encoded == input, "re-encoding a decoded envelope changed the bytes");
  const rm::Result<rm::Envelope> again = rm::decode_envelope(encoded);
  RM_ASSERT_MSG(again.ok() && *again == *decoded, "envelope round trip changed the value");
  return 0;
}
