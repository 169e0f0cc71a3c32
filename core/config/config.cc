#include "core/config/config.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <variant>
#include <vector>

#include "core/config/config_schema.h"

namespace rm {
namespace {

namespace dom = simdjson::dom;

// A config file is a few kilobytes; the cap only stops `--config /dev/zero` from eating
// memory.
constexpr size_t kMaxConfigBytes = size_t{16} << 20;
constexpr size_t kNotFound = static_cast<size_t>(-1);

// ---- paths ----------------------------------------------------------------------------

// "listeners.smtp.port" -> "listeners.smtp"; a top-level key -> "".
std::string_view parent_path(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

// "listeners.smtp.port" -> "port".
std::string_view leaf_name(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Looks a key up by (section, key) rather than by the joined path, so that a JSON key that
// itself contains a dot ({"listeners": {"smtp.port": 1}}) cannot alias a nested field.
size_t find_child(std::string_view section, std::string_view key) {
  const std::span<const ConfigField> schema = config_schema();
  for (size_t i = 0; i < schema.size(); ++i) {
    if (parent_path(schema[i].path) == section && leaf_name(schema[i].path) == key) {
      return i;
    }
  }
  return kNotFound;
}

// ---- JSON text ------------------------------------------------------------------------

// Appends `s` escaped as the inside of a JSON string: quote, backslash and control bytes.
// Other bytes, UTF-8 included, are copied as they are.
void append_escaped(std::string& out, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

void append_indent(std::string& out, int depth) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
}

std::string_view json_type_name(const dom::element& value) {
  switch (value.type()) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
      return "integer";
    case dom::element_type::DOUBLE:
      return "number";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// ---- errors ---------------------------------------------------------------------------

Status key_error(std::string_view path, std::string_view reason) {
  std::string msg = "'";
  msg += path;
  msg += "': ";
  msg += reason;
  return Status::InvalidArgument(std::move(msg));
}

Status type_error(std::string_view path, std::string_view expected, const dom::element& value) {
  return key_error(
      path, "expected " + std::string(expected) + ", got " + std::string(json_type_name(value)));
}

// "unknown key 'section.key'" and the like. Keys come from the file, so they are escaped
// before they go into a message.
Status bad_key(std::string_view section, std::string_view key, std::string_view what) {
  std::string msg(what);
  msg += " '";
  if (!section.empty()) {
    msg += section;
    msg += '.';
  }
  append_escaped(msg, key);
  msg += "'";
  if (key.find('.') != std::string_view::npos) {
    // {"listeners": {"smtp.port": 1}} would otherwise read as a refusal of a real key.
    msg += " (a key never contains a dot; nest objects instead)";
  }
  return Status::InvalidArgument(std::move(msg));
}

// ---- parsing --------------------------------------------------------------------------

struct ParseState {
  Options options;
  std::vector<bool> seen;  // per schema entry: a key met twice is a duplicate
};

Status apply_object(const dom::object& object, std::string_view section, ParseState& state);

// Every string option ends up in a file name, a log line or a protocol greeting, where a
// control byte is at best a mistake.
Status read_string(std::string_view path, const dom::element& value, StringCheck check,
                   std::string_view& out) {
  if (value.get_string().get(out) != simdjson::SUCCESS) {
    return type_error(path, "a string", value);
  }
  for (const unsigned char c : out) {
    if (c < 0x20 || c == 0x7f) {
      return key_error(path, "must not contain control characters");
    }
  }
  const std::string reason = check ? check(out) : std::string();
  return reason.empty() ? Status::Ok() : key_error(path, reason);
}

// simdjson returns integers as INT64 unless they exceed INT64_MAX, so a negative number
// is still an integer: it is reported as out of range, not as a wrong type.
Status read_uint(std::string_view path, const dom::element& value, std::string_view range,
                 uint64_t& out) {
  int64_t signed_value = 0;
  if (value.get_int64().get(signed_value) == simdjson::SUCCESS) {
    if (signed_value < 0) {
      return key_error(path, std::to_string(signed_value) + std::string(range));
    }
    out = static_cast<uint64_t>(signed_value);
    return Status::Ok();
  }
  if (value.get_uint64().get(out) != simdjson::SUCCESS) {
    return type_error(path, "an unsigned integer", value);
  }
  return Status::Ok();
}

Status apply(const SectionField&, std::string_view path, const dom::element& value,
             ParseState& state) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return type_error(path, "an object", value);
  }
  return apply_object(object, path, state);
}

Status apply(const BoolField& field, std::string_view path, const dom::element& value,
             ParseState& state) {
  bool b = false;
  if (value.get_bool().get(b) != simdjson::SUCCESS) {
    return type_error(path, "true or false", value);
  }
  field.ref.get(state.options) = b;
  return Status::Ok();
}

Status apply(const Uint32Field& field, std::string_view path, const dom::element& value,
             ParseState& state) {
  const std::string range =
      " is out of range (" + std::to_string(field.min) + ".." + std::to_string(field.max) + ")";
  uint64_t n = 0;
  RM_RETURN_IF_ERROR(read_uint(path, value, range, n));
  if (n < field.min || n > field.max) {
    return key_error(path, std::to_string(n) + range);
  }
  const std::string reason = field.check ? field.check(static_cast<uint32_t>(n)) : std::string();
  if (!reason.empty()) {
    return key_error(path, reason);
  }
  field.ref.get(state.options) = static_cast<uint32_t>(n);
  return Status::Ok();
}

Status apply(const StringField& field, std::string_view path, const dom::element& value,
             ParseState& state) {
  std::string_view s;
  RM_RETURN_IF_ERROR(read_string(path, value, field.check, s));
  field.ref.get(state.options) = std::string(s);
  return Status::Ok();
}

Status apply(const StringListField& field, std::string_view path, const dom::element& value,
             ParseState& state) {
  dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return type_error(path, "an array of strings", value);
  }
  // Built aside and swapped in, so a list in the file replaces the default list whole.
  std::vector<std::string> items;
  for (const dom::element item : array) {
    const std::string item_path = std::string(path) + "[" + std::to_string(items.size()) + "]";
    std::string_view s;
    RM_RETURN_IF_ERROR(read_string(item_path, item, field.item_check, s));
    items.emplace_back(s);
  }
  field.ref.get(state.options) = std::move(items);
  return Status::Ok();
}

Status apply_object(const dom::object& object, std::string_view section, ParseState& state) {
  const std::span<const ConfigField> schema = config_schema();
  for (const dom::key_value_pair member : object) {
    const size_t index = find_child(section, member.key);
    if (index == kNotFound) {
      return bad_key(section, member.key, "unknown key");
    }
    // simdjson's DOM keeps every member of an object, duplicates included.
    if (state.seen[index]) {
      return bad_key(section, member.key, "duplicate key");
    }
    state.seen[index] = true;
    const ConfigField& field = schema[index];
    RM_RETURN_IF_ERROR(
        std::visit([&](const auto& spec) { return apply(spec, field.path, member.value, state); },
                   field.spec));
  }
  return Status::Ok();
}

// ---- printing -------------------------------------------------------------------------

void print_section(std::string_view section, const Options& options, int depth, std::string& out);

void print_value(const SectionField&, std::string_view path, const Options& options, int depth,
                 std::string& out) {
  print_section(path, options, depth, out);
}

void print_value(const BoolField& field, std::string_view, const Options& options, int,
                 std::string& out) {
  out += field.ref.cget(options) ? "true" : "false";
}

void print_value(const Uint32Field& field, std::string_view, const Options& options, int,
                 std::string& out) {
  out += std::to_string(field.ref.cget(options));
}

void print_value(const StringField& field, std::string_view, const Options& options, int,
                 std::string& out) {
  append_json_string(out, field.ref.cget(options));
}

void print_value(const StringListField& field, std::string_view, const Options& options, int depth,
                 std::string& out) {
  const std::vector<std::string>& items = field.ref.cget(options);
  if (items.empty()) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (size_t i = 0; i < items.size(); ++i) {
    append_indent(out, depth + 1);
    append_json_string(out, items[i]);
    out += i + 1 < items.size() ? ",\n" : "\n";
  }
  append_indent(out, depth);
  out += ']';
}

// Writes the object for `section` ("" = the whole config); its keys are the schema entries
// whose parent it is, in table order. `depth` is the indentation of its braces.
void print_section(std::string_view section, const Options& options, int depth, std::string& out) {
  bool first = true;
  for (const ConfigField& field : config_schema()) {
    if (parent_path(field.path) != section) {
      continue;
    }
    out += first ? "{\n" : ",\n";
    first = false;
    append_indent(out, depth + 1);
    append_json_string(out, leaf_name(field.path));
    out += ": ";
    std::visit([&](const auto& spec) { print_value(spec, field.path, options, depth + 1, out); },
               field.spec);
  }
  if (first) {
    out += "{}";
    return;
  }
  out += '\n';
  append_indent(out, depth);
  out += '}';
}

// ---- files ----------------------------------------------------------------------------

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

Result<std::string> read_config_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::FromErrno("config " + path, errno);
  }
  const FdCloser closer{fd};
  std::string data;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::FromErrno("config " + path, errno);
    }
    if (n == 0) {
      return data;
    }
    if (data.size() + static_cast<size_t>(n) > kMaxConfigBytes) {
      return Status::InvalidArgument("config " + path + ": larger than 16 MiB");
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<Options> parse_config(std::string_view json) {
  const simdjson::padded_string padded(json);
  if (padded.data() == nullptr) {
    return Status::ResourceExhausted("config: out of memory");
  }
  dom::parser parser;
  dom::element root;
  if (const simdjson::error_code err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the top level must be an object, got " +
                                   std::string(json_type_name(root)));
  }
  ParseState state;
  state.seen.assign(config_schema().size(), false);
  RM_RETURN_IF_ERROR(apply_object(object, "", state));
  RM_RETURN_IF_ERROR(check_config_invariants(state.options));
  return std::move(state.options);
}

Result<Options> load_config_file(const std::string& path) {
  Result<std::string> text = read_config_file(path);
  if (!text.ok()) {
    return text.status();
  }
  Result<Options> options = parse_config(*text);
  if (!options.ok()) {
    return Status::InvalidArgument("config " + path + ": " +
                                   std::string(options.status().message()));
  }
  return options;
}

std::string print_config(const Options& options) {
  std::string out;
  print_section("", options, 0, out);
  out += '\n';
  return out;
}

}  // namespace rm
