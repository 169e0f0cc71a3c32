// The Public Suffix List (publicsuffix.org) and the Organizational Domain of RFC 7489 §3.2.
//
//   std::string text = read_file("/usr/share/publicsuffix/public_suffix_list.dat");  // caller
//   Result<PublicSuffixList> psl = PublicSuffixList::parse(text);
//   psl->organizational_domain("mail.example.co.uk");   // "example.co.uk"
//   psl->public_suffix("www.ck");                       // "ck" (exception rule !www.ck)
//
// Rules follow the list's format: one rule per line (the rule ends at the first white space),
// "//" comments, "*." wildcards on the leftmost label, "!" exceptions, and the
// "===BEGIN ICANN DOMAINS===" / "===BEGIN PRIVATE DOMAINS===" markers that give each rule its
// section. Internationalised rules are matched both as written (UTF-8) and as A-labels.
// Matching is the list's algorithm: an exception rule prevails, otherwise the rule with the
// most labels; with no match the rule is "*" (the top-level label is the suffix).
// A domain that is itself a public suffix is its own Organizational Domain.
//
// Untrusted input: domains to look up (bounded by kDomainBytesMax). The list itself comes from
// the operator's file and is bounded by PslLimits.
// Thread-safety: immutable after parse(); share one instance between threads freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/base/status.h"

namespace rm::dmarc {

struct PslLimits {
  size_t text_bytes_max = size_t{16} << 20;  // the Debian file is about 250 KB
  size_t rules_max = 200000;                 // it has about 10 000 rules
};

// Which sections of the list a lookup uses. DMARC uses both (the default); kIcannOnly
// ignores names that private registries (blogspot.com, github.io) asked to be listed.
enum class PslSections : uint8_t { kAll, kIcannOnly };

class PublicSuffixList {
 public:
  // Parses the list's text; refuses only text past the limits (a malformed line is skipped).
  static Result<PublicSuffixList> parse(std::string_view text, const PslLimits& limits = {});

  size_t rule_count() const { return rule_count_; }

  // The public suffix of `domain` (normalised: lower case, no trailing dot).
  Result<std::string> public_suffix(std::string_view domain,
                                    PslSections sections = PslSections::kAll) const;
  // The public suffix plus one label, or the domain itself when it is a public suffix.
  Result<std::string> organizational_domain(std::string_view domain,
                                            PslSections sections = PslSections::kAll) const;

 private:
  // What rules exist for one name (the rule text without "*." or "!"), by kind and section.
  enum RuleBits : uint8_t {
    kNormalIcann = 1 << 0,
    kNormalPrivate = 1 << 1,
    kWildcardIcann = 1 << 2,
    kWildcardPrivate = 1 << 3,
    kExceptionIcann = 1 << 4,
    kExceptionPrivate = 1 << 5,
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using RuleMap = std::unordered_map<std::string, uint8_t, Hash, std::equal_to<>>;

  void add_rule(std::string_view rule, bool private_section);
  uint8_t bits_for(std::string_view name, PslSections sections) const;
  // How many labels (from the right) of a normalised domain form its public suffix.
  size_t suffix_labels(std::string_view domain, PslSections sections) const;

  RuleMap rules_;
  size_t rule_count_ = 0;
};

}  // namespace rm::dmarc
