// Fuzzes parse_config, and checks that whatever it accepts prints to text that parses back
// to the same options (print -> parse -> print is byte-identical).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "core/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const rm::Result<rm::Options> parsed = rm::parse_config(input);
  if (!parsed.ok()) {
    // Every refusal must explain itself.
    RM_ASSERT(!parsed.status().message().empty());
    return 0;
  }
  const std::string printed = rm::print_config(*parsed);
  const rm::Result<rm::Options> reparsed = rm::parse_config(printed);
  RM_ASSERT_MSG(reparsed.ok(), "print_config wrote a config that parse_config refuses");
  RM_ASSERT_MSG(rm::print_config(*reparsed) == printed, "config round trip changed the text");
  return 0;
}
