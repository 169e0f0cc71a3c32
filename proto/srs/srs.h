// The Sender Rewriting Scheme as libsrs2 and postsrsd write it, so that ringmail's rewritten
// senders and theirs can be reversed by either side.
//
//   Forward (a message from alice@example.org forwarded by forwarder.net):
//     alice@example.org                     -> SRS0=HHHH=TT=example.org=alice@forwarder.net
//   Forwarding an address that is already SRS0 (we are the second forwarder): keep the first
//   forwarder's part, so that a bounce goes straight back to it:
//     SRS0=HHHH=TT=example.org=alice@first.net ->
//     SRS1=GGGG=first.net==HHHH=TT=example.org=alice@forwarder.net
//   (an SRS1 address is re-signed the same way, keeping its first.net part).
//   Reverse (a bounce to one of those): SRS0 gives back alice@example.org, SRS1 gives back
//   SRS0=HHHH=TT=example.org=alice@first.net.
//
//   Result<Srs> srs = Srs::create({"new secret", "old secret"});
//   Rewritten fwd = srs->forward("alice@example.org", "forwarder.net", now_unix_s);
//   Rewritten back = srs->reverse(fwd.address, now_unix_s);   // back.address ==
//   "alice@example.org"
//
// HHHH is the start of base64(HMAC-SHA1(secret, lower-case(TT + domain + local))) (SRS1:
// of host + rest); TT is the day number modulo 1024 in two base32 characters. The first
// secret signs; every secret is tried when reversing, so that secrets can be rotated.
// Reversal accepts what mail systems do to local parts: "SRS0"/"SRS1", the hash and the
// timestamp are compared ignoring case (as libsrs2 does), any of the separators '=', '+', '-'
// after SRS0/SRS1. A timestamp older than max_age_days is refused; one ahead of today is read
// across the 1024-day wrap, as from long ago, and refused too.
// Untrusted input: every address (envelope senders, bounce recipients); bounded by
// kAddressBytesMax. The time is passed in (seconds since 1970) — there is no clock here.
// Thread-safety: an Srs is immutable after create(); share it between threads freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace rm::srs {

inline constexpr size_t kAddressBytesMax = 512;  // input and output addresses
inline constexpr size_t kHashLengthMax = 27;     // base64 characters that carry HMAC-SHA1 bits
inline constexpr size_t kSecretsMax = 16;
inline constexpr size_t kSecretBytesMax = 1024;
inline constexpr uint32_t kTimestampSlots = 1024;  // days; 10 bits in two base32 characters

struct SrsOptions {
  char separator = '=';         // written after SRS0/SRS1: '=', '+' or '-'
  size_t hash_length = 4;       // base64 characters of the HMAC written, 1..kHashLengthMax
  size_t hash_min = 4;          // the fewest accepted when reversing, 1..hash_length
  uint32_t max_age_days = 21;   // 1..kTimestampSlots-1
  bool always_rewrite = false;  // rewrite senders that are already in our domain too
};

enum class SrsError : uint8_t {
  kNone,
  kNotSrs,        // reverse: the local part is not SRS0/SRS1 (deliver or refuse normally)
  kNoAtSign,      // forward: the sender has no '@'
  kSyntax,        // an SRS address with a missing part, or an empty local part or domain
  kHashTooShort,  // fewer hash characters than hash_min
  kBadHash,       // the hash matches no secret: forged or damaged
  kBadTimestamp,  // not two base32 characters
  kExpired,       // older than max_age_days
  kTooLong,       // the input or the result is longer than kAddressBytesMax
};

std::string_view srs_error_name(SrsError e);

struct Rewritten {
  SrsError error = SrsError::kNone;
  std::string address;  // set when error == kNone
  bool ok() const { return error == SrsError::kNone; }
};

class Srs {
 public:
  // Fails when there is no secret, a secret is empty or too long, or an option is out of range.
  static Result<Srs> create(std::vector<std::string> secrets, SrsOptions options = {});

  // The address to use as envelope sender when forwarding a message from `sender` (a
  // local@domain address) through `our_domain`. A sender in our_domain is returned unchanged
  // unless always_rewrite is set.
  Rewritten forward(std::string_view sender, std::string_view our_domain, int64_t now_unix_s) const;

  // The address a bounce to `recipient` (an SRS0 or SRS1 address; the domain part, if any, is
  // not checked) must go to.
  Rewritten reverse(std::string_view recipient, int64_t now_unix_s) const;

  // Whether the local part of `address` starts like an SRS0 or SRS1 address (any case, any
  // separator). Says nothing about the hash.
  static bool is_srs(std::string_view address);

 private:
  Srs(std::vector<std::string> secrets, SrsOptions options)
      : secrets_(std::move(secrets)), options_(options) {}

  // The full base64 HMAC (kHashLengthMax characters) of the lower-cased parts.
  std::string hash(size_t secret, std::initializer_list<std::string_view> parts) const;
  SrsError check_hash(std::string_view given, std::initializer_list<std::string_view> parts) const;
  SrsError check_timestamp(std::string_view stamp, int64_t now_unix_s) const;
  Rewritten reverse_srs0(std::string_view rest, int64_t now_unix_s) const;
  Rewritten reverse_srs1(std::string_view rest) const;

  std::vector<std::string> secrets_;
  SrsOptions options_;
};

}  // namespace rm::srs
