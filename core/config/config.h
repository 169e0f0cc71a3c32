// Reading and writing the JSON configuration (simdjson).
//
// parse_config starts from the defaults in options.h and applies the keys present. It
// refuses unknown keys, wrong JSON types and out-of-range values; the error message names
// the key by its full dotted path (e.g. `listeners.smtp.port`) and says why. print_config
// writes the effective configuration as JSON that parse_config accepts back unchanged.
// Untrusted input: the file is operator-written, but the parser is fuzzed all the same.
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/config/options.h"

namespace rm {

Result<Options> parse_config(std::string_view json);
Result<Options> load_config_file(const std::string& path);
std::string print_config(const Options& options);

}  // namespace rm
