// Identifier alignment (RFC 7489 §3.1): does a domain that SPF or DKIM authenticated belong
// to the author's (RFC5322.From) domain?
//
//   aligned(psl, "mail.example.com", "example.com", AlignmentMode::kRelaxed);  // true
//   aligned(psl, "mail.example.com", "example.com", AlignmentMode::kStrict);   // false
//
// Strict: the two names are equal (ASCII case and a trailing dot ignored). Relaxed: their
// Organizational Domains (public_suffix_list.h, both sections of the list) are equal.
// A name that is not a valid domain aligns with nothing.
// Untrusted input: both domains. Thread-safety: pure; the list is only read.
#pragma once

#include <string_view>

#include "proto/dmarc/public_suffix_list.h"
#include "proto/dmarc/record.h"

namespace rm::dmarc {

bool aligned(const PublicSuffixList& psl, std::string_view authenticated_domain,
             std::string_view from_domain, AlignmentMode mode);

}  // namespace rm::dmarc
