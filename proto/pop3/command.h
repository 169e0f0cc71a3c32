// The POP3 command parser: one command line (without its line end) in, a Command or the
// reason it was refused out. Pure: no I/O, no session state.
//
// Commands are a table (verbs()): the keyword, the session states it is valid in and how
// many arguments it takes. Keywords are case-insensitive (RFC 1939 §3); arguments are
// separated by spaces. PASS takes the rest of the line as one argument, since passwords
// may hold spaces; AUTH's initial response is bounded by the line length only (RFC 5034).
// APOP is not supported: it is parsed as an unknown command.
//   ParseResult r = parse_command("TOP 1 10", 255);
//   // r.command->verb == Verb::kTop, r.command->args[0] == "1", r.command->args[1] == "10"
// Untrusted input: yes — every command line of every client. The Command's arguments point
// into the line passed in.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace rm::pop3 {

enum class Verb : uint8_t {
  kUser,
  kPass,
  kStat,
  kList,
  kUidl,
  kRetr,
  kTop,
  kDele,
  kRset,
  kNoop,
  kQuit,
  kCapa,
  kAuth,
  kStls,
};

// The session states a verb is valid in (RFC 1939 §3), as a set.
enum StateSet : uint8_t {
  kInAuthorization = 1u << 0,
  kInTransaction = 1u << 1,
};

struct VerbInfo {
  std::string_view name;
  Verb verb;
  uint8_t states;  // StateSet
  uint8_t args_min;
  uint8_t args_max;
  bool rest_is_argument;  // the rest of the line is one argument (PASS)
};

std::span<const VerbInfo> verbs();
const VerbInfo& verb_info(Verb verb);

inline constexpr size_t kArgumentsMax = 2;

struct Command {
  Verb verb = Verb::kNoop;
  std::array<std::string_view, kArgumentsMax> args{};
  size_t arg_count = 0;

  std::string_view arg(size_t i) const { return i < arg_count ? args[i] : std::string_view(); }
};

enum class ParseError : uint8_t {
  kUnknownCommand,
  kBadArguments,     // too few or too many
  kArgumentTooLong,  // longer than argument_bytes_max
};

struct ParseResult {
  std::optional<Command> command;
  ParseError error = ParseError::kUnknownCommand;  // when !command
};

// `argument_bytes_max` bounds each argument except AUTH's initial response.
ParseResult parse_command(std::string_view line, size_t argument_bytes_max);

// A message number or a line count: 1 to 9 decimal digits, nothing else (no sign, no
// spaces). nullopt when `text` is not one.
std::optional<uint32_t> parse_number(std::string_view text);

}  // namespace rm::pop3
