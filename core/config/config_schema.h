// The configuration schema: one table entry per JSON key, in the order print_config writes
// them.
//
// Each entry names its key by the full dotted path (`listeners.smtp.port`), says what kind
// of value it holds, how to reach the field in Options, and which values are allowed.
// parse_config and print_config are generic walks over this table, so a new option is one
// line in config_schema.cc (plus its default in options.h). A section (a nested struct)
// is an entry of its own and must come before the keys it contains.
// Thread-safety: the table is immutable.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/status.h"
#include "core/config/options.h"

namespace rm {

// A value check beyond the JSON type: returns "" when `value` is acceptable, otherwise the
// reason (without the key, which the caller prefixes). Uint32 checks run after the range
// check; string checks run after the rule every string obeys: valid UTF-8 (simdjson
// verifies it) without control characters.
using Uint32Check = std::string (*)(uint32_t value);
using StringCheck = std::string (*)(std::string_view value);

// Where a field lives in Options. Both a mutable and a const accessor, so that printing
// never needs a const_cast.
template <typename T>
struct FieldRef {
  T& (*get)(Options&) = nullptr;
  const T& (*cget)(const Options&) = nullptr;
};

struct SectionField {};  // a JSON object whose keys are the entries below it
struct BoolField {
  FieldRef<bool> ref;
};
struct Uint32Field {
  FieldRef<uint32_t> ref;
  uint32_t min = 0;  // inclusive
  uint32_t max = 0;  // inclusive
  Uint32Check check = nullptr;
};
struct StringField {
  FieldRef<std::string> ref;
  StringCheck check = nullptr;
};
struct StringListField {
  FieldRef<std::vector<std::string>> ref;
  StringCheck item_check = nullptr;  // applied to each element
};

using FieldSpec = std::variant<SectionField, BoolField, Uint32Field, StringField, StringListField>;

struct ConfigField {
  std::string_view path;  // dotted, e.g. "runtime.shards"; a key is its last component
  FieldSpec spec;
};

// Every key, sections before their contents, in print order.
std::span<const ConfigField> config_schema();

// Rules that involve more than one field; checked after all keys are applied, because the
// JSON may give the fields in any order. Returns InvalidArgument naming the key.
Status check_config_invariants(const Options& options);

}  // namespace rm
