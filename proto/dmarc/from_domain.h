// The RFC5322.From domain that DMARC evaluates (RFC 7489 §3.1.1, §6.6.1), taken from a
// message's header block.
//
//   FromDomain from = extract_from_domain(headers);
//   if (!from.ok()) {
//     Outcome o = outcome_for_from_error(from.error);   // evaluator.h: permerror, reject
//   }
//
// The header block must hold exactly one From field, and that field exactly one mailbox
// (a group holding one mailbox counts as one) whose domain is a domain name. Anything else
// is a FromError. ringmail's choice, following §6.6.1 ("typically rejected"): such a message
// gets dmarc=permerror and the disposition reject, whatever the domains publish, because a
// message without one clear author cannot be checked and is the usual shape of spoofing.
// The server may still decide to accept it (an option of its own); this module only says.
//
// Parsing is RFC 5322 address syntax, lenient where it is harmless: comments (nested), quoted
// strings, display names, angle addresses with an obsolete route, groups, obsolete white
// space around dots. The domain is returned normalised (lower case, no trailing dot).
// Untrusted input: yes (message headers). The From value is bounded by kFromValueBytesMax;
// the scan is linear in the block's size.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rm::dmarc {

inline constexpr size_t kFromValueBytesMax = 8192;

enum class FromError : uint8_t {
  kNone,
  kNoFrom,             // no From field in the header block
  kMultipleFrom,       // more than one From field
  kNoAddress,          // the field holds no mailbox (empty, or an empty group)
  kMultipleAddresses,  // more than one mailbox
  kSyntax,             // unbalanced quotes, comments, brackets or groups
  kNoDomain,           // the mailbox has no domain, or an address literal
  kBadDomain,          // the domain is not a valid domain name
  kTooLong,            // the field is longer than kFromValueBytesMax
};

std::string_view from_error_name(FromError e);  // "no From field", ...

struct FromDomain {
  FromError error = FromError::kNone;
  std::string domain;  // set when error == kNone
  bool ok() const { return error == FromError::kNone; }
};

FromDomain extract_from_domain(std::string_view header_block);

// The same on one From field's value (the text after "From:").
FromDomain from_domain_of_value(std::string_view value);

}  // namespace rm::dmarc
