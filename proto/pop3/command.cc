#include "proto/pop3/command.h"

#include <algorithm>

#include "core/base/assert.h"

namespace rm::pop3 {
namespace {

constexpr uint8_t kAuthOnly = kInAuthorization;
constexpr uint8_t kTransOnly = kInTransaction;
constexpr uint8_t kAnyState = kInAuthorization | kInTransaction;

// Indexed by Verb.
constexpr VerbInfo kVerbs[] = {
    {"USER", Verb::kUser, kAuthOnly, 1, 1, false},  {"PASS", Verb::kPass, kAuthOnly, 1, 1, true},
    {"STAT", Verb::kStat, kTransOnly, 0, 0, false}, {"LIST", Verb::kList, kTransOnly, 0, 1, false},
    {"UIDL", Verb::kUidl, kTransOnly, 0, 1, false}, {"RETR", Verb::kRetr, kTransOnly, 1, 1, false},
    {"TOP", Verb::kTop, kTransOnly, 2, 2, false},   {"DELE", Verb::kDele, kTransOnly, 1, 1, false},
    {"RSET", Verb::kRset, kTransOnly, 0, 0, false}, {"NOOP", Verb::kNoop, kTransOnly, 0, 0, false},
    {"QUIT", Verb::kQuit, kAnyState, 0, 0, false},  {"CAPA", Verb::kCapa, kAnyState, 0, 0, false},
    {"AUTH", Verb::kAuth, kAuthOnly, 0, 2, false},  {"STLS", Verb::kStls, kAuthOnly, 0, 0, false},
};

bool equals_ignoring_case(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (u != upper[i]) {
      return false;
    }
  }
  return true;
}

const VerbInfo* find_verb(std::string_view keyword) {
  for (const VerbInfo& info : kVerbs) {
    if (equals_ignoring_case(keyword, info.name)) {
      return &info;
    }
  }
  return nullptr;
}

}  // namespace

std::span<const VerbInfo> verbs() {
  return kVerbs;
}

const VerbInfo& verb_info(Verb verb) {
  const size_t i = static_cast<size_t>(verb);
  RM_ASSERT(i < std::size(kVerbs) && kVerbs[i].verb == verb);
  return kVerbs[i];
}

ParseResult parse_command(std::string_view line, size_t argument_bytes_max) {
  ParseResult result;
  const size_t space = line.find(' ');
  const VerbInfo* info = find_verb(line.substr(0, space));
  if (info == nullptr) {
    return result;
  }
  Command cmd;
  cmd.verb = info->verb;
  std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space);
  if (info->rest_is_argument && rest.size() > 1) {
    // Everything after the one separating space, spaces included (a password).
    cmd.args[cmd.arg_count++] = rest.substr(1);
    rest = std::string_view();
  }
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      break;  // trailing spaces
    }
    rest.remove_prefix(start);
    if (cmd.arg_count == info->args_max) {
      result.error = ParseError::kBadArguments;
      return result;
    }
    const size_t end = std::min(rest.find(' '), rest.size());
    cmd.args[cmd.arg_count++] = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  if (cmd.arg_count < info->args_min) {
    result.error = ParseError::kBadArguments;
    return result;
  }
  // AUTH's initial response is bounded by the line length alone (RFC 5034 §4).
  const size_t checked =
      cmd.verb == Verb::kAuth ? std::min<size_t>(cmd.arg_count, 1) : cmd.arg_count;
  for (size_t i = 0; i < checked; ++i) {
    if (cmd.args[i].size() > argument_bytes_max) {
      result.error = ParseError::kArgumentTooLong;
      return result;
    }
  }
  result.command = cmd;
  return result;
}

std::optional<uint32_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 9) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

}  // namespace rm::pop3
