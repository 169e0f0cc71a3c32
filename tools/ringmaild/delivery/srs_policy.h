// SrsPolicy: when ringmaild applies the Sender Rewriting Scheme (proto/srs/srs.h), the way
// Postfix with postsrsd does.
//   - A message to one of our addresses that an alias sends to a remote address goes out
//     with forward_sender(): the envelope sender rewritten to an SRS0 address at domain()
//     (SRS1 when it is SRS already), unless it is <> or in one of our domains.
//   - A recipient at domain() that looks like SRS is a bounce coming back:
//     reverse_recipient() says where it goes, or why it is refused (bad hash, expired).
//
//   SrsPolicy policy(*srs::Srs::create({"secret"}), "fwd.example", {"fwd.example"});
//   policy.forward_sender("alice@example.org", now)  //
//   "SRS0=HHHH=TT=example.org=alice@fwd.example" policy.reverse_recipient("bob@fwd.example", now)
//   // nullopt: not an SRS address
//
// Untrusted input: senders and recipients (bounded by srs::kAddressBytesMax inside Srs).
// Thread-safety: immutable after construction; share it between shards freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/srs/srs.h"

namespace rm {

class SrsPolicy {
 public:
  // `domain` goes into SRS addresses; `our_domains` are senders never rewritten (any case).
  SrsPolicy(srs::Srs srs, std::string domain, std::vector<std::string> our_domains);

  const std::string& domain() const { return domain_; }

  // The envelope sender for a copy forwarded to a remote address: `sender` unchanged when it
  // is empty (<>), in one of our domains, or cannot be rewritten (no '@', too long).
  std::string forward_sender(std::string_view sender, int64_t now_unix_s) const;

  // nullopt when `recipient` is not an SRS address at domain() (it is delivered or refused as
  // usual); otherwise where a bounce to it goes, or the reason it is refused.
  std::optional<srs::Rewritten> reverse_recipient(std::string_view recipient,
                                                  int64_t now_unix_s) const;

  // The SMTP reply to RCPT TO an SRS address that does not reverse.
  static std::string refusal_text(std::string_view recipient, srs::SrsError error);

 private:
  bool is_ours(std::string_view domain) const;

  srs::Srs srs_;
  std::string domain_;                    // lower case
  std::vector<std::string> our_domains_;  // lower case
};

// The SRS domain from the options: srs.domain, else the first server.local_domains entry
// that is not "localhost", else server.hostname.
std::string srs_domain(const std::string& configured, const std::vector<std::string>& local_domains,
                       const std::string& hostname);

}  // namespace rm
