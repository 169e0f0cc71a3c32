// The SMTP command parser: one command line (without its CRLF) in, a Command or a Reply
// saying what is wrong out. Pure: no I/O, no session state beyond what the caller passes.
//
// Verbs are a table (kVerbs) with the flags the server's session needs: allowed before TLS
// on a port that requires it, must be the last command of a pipelined group (RFC 2920),
// counts toward the error limit when refused.
// Untrusted input: yes — every command line of every client.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "proto/smtp/address.h"
#include "proto/smtp/reply.h"

namespace rm::smtp {

enum class Verb : uint8_t {
  kHelo, kEhlo, kMail, kRcpt, kData, kBdat, kRset, kNoop, kQuit, kVrfy, kExpn, kHelp,
  kStartTls, kAuth,
};

enum VerbFlags : uint32_t {
  kBeforeTls = 1u << 0,    // allowed before STARTTLS where TLS is required
  kLastInGroup = 1u << 1,  // RFC 2920: must be the last command in a pipelined group
  kCountsAsJunk = 1u << 2, // a refused one counts toward the session's error limit
};

struct VerbInfo {
  std::string_view name;
  Verb verb;
  uint32_t flags;
};

std::span<const VerbInfo> verbs();
const VerbInfo& verb_info(Verb verb);

enum class Body : uint8_t { k7Bit, k8BitMime, kBinaryMime };
enum class Ret : uint8_t { kUnset, kFull, kHdrs };
enum Notify : uint8_t {  // RFC 3461 NOTIFY, a set; kNever alone, or any of the others
  kNotifyUnset = 0, kNotifyNever = 1, kNotifySuccess = 2, kNotifyFailure = 4, kNotifyDelay = 8,
};

struct MailParams {
  std::optional<uint64_t> size;  // SIZE=
  Body body = Body::k7Bit;       // BODY=
  bool smtputf8 = false;         // SMTPUTF8
  Ret ret = Ret::kUnset;         // RET=
  std::string envid;             // ENVID= (xtext decoded)
  std::string auth;              // AUTH= (xtext decoded; "<>" when unknown)
};

struct RcptParams {
  uint8_t notify = kNotifyUnset;  // NOTIFY=
  std::string orcpt;              // ORCPT= "rfc822;addr" (xtext decoded)
};

struct Command {
  Verb verb = Verb::kNoop;
  std::string_view argument;  // the raw text after the verb (HELO domain, AUTH args, ...)
  // MAIL / RCPT
  bool null_path = false;     // MAIL FROM:<>
  Mailbox mailbox;
  MailParams mail;
  RcptParams rcpt;
  // BDAT
  uint64_t chunk_size = 0;
  bool last = false;
};

// What the session allows the parser to accept (it depends on the EHLO answer and the port).
struct ParseContext {
  bool esmtp = true;         // EHLO was used: parameters allowed
  bool smtputf8 = true;      // SMTPUTF8 is offered
  bool dsn = true;           // DSN is offered
  bool chunking = true;      // CHUNKING is offered
  bool utf8_transaction = false;  // MAIL had SMTPUTF8: UTF-8 recipients allowed
  uint64_t size_max = 0;     // SIZE announced (0 = no limit); SIZE= above it is refused here
};

struct ParseResult {
  std::optional<Command> command;  // set on success
  Reply error;                     // set when command is empty
};

// REQUIRES: `line` has no CRLF.
ParseResult parse_command(std::string_view line, const ParseContext& context);

// RFC 3461 xtext: "+XX" hex escapes. Returns false on malformed input.
bool decode_xtext(std::string_view text, std::string& out);

}  // namespace rm::smtp
