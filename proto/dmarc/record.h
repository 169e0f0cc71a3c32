// The DMARC policy record (RFC 7489 §6.3, §6.4; np= from RFC 9091): the text of one TXT record
// at _dmarc.<domain> in, a Record out.
//
//   std::optional<Record> r = parse_record("v=DMARC1; p=reject; rua=mailto:d@example.com");
//   if (!r) { /* not a DMARC record: discard it (§6.6.3 step 5) */ }
//   if (!r->policy_valid) { /* §6.6.3 step 6: see Record::policy_valid */ }
//
// Parsing follows the RFC's leniency: "v=DMARC1" must be the first tag (else the text is not
// a DMARC record at all); tag names and keywords are case-insensitive; unknown tags are
// ignored; a tag with a bad value keeps its default; a repeated tag keeps its first value.
// Untrusted input: yes (DNS answers). Every list is bounded (kReportUrisMax, kReportFormatsMax)
// and records longer than kRecordBytesMax are not parsed (policy_valid is false).
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rm::dmarc {

inline constexpr size_t kRecordBytesMax = 2048;
inline constexpr size_t kReportUrisMax = 8;     // per rua= or ruf=
inline constexpr size_t kReportFormatsMax = 8;  // rf=
inline constexpr size_t kReportUriBytesMax = 512;

enum class Policy : uint8_t { kNone, kQuarantine, kReject };
enum class AlignmentMode : uint8_t { kRelaxed, kStrict };

std::string_view policy_name(Policy p);  // "none", "quarantine", "reject"

// fo= flags (§6.3), a set.
enum FailureOption : uint8_t {
  kFailureAll = 1 << 0,   // "0": report when every mechanism failed to align (default)
  kFailureAny = 1 << 1,   // "1": report when any mechanism failed to align
  kFailureDkim = 1 << 2,  // "d": report a failed DKIM signature
  kFailureSpf = 1 << 3,   // "s": report a failed SPF evaluation
};

struct ReportUri {
  std::string uri;              // e.g. "mailto:dmarc@example.com"
  uint64_t size_max_bytes = 0;  // the "!10m" suffix; 0 when absent
};

struct Record {
  // p= (and sp= when present) parsed and valid. When false, §6.6.3 step 6 applies: with at
  // least one valid rua= URI the receiver acts as if p=none was published, otherwise no DMARC
  // processing is done (the evaluator reports permerror).
  bool policy_valid = false;
  Policy policy = Policy::kNone;                           // p=
  std::optional<Policy> subdomain_policy;                  // sp=
  std::optional<Policy> nonexistent_policy;                // np= (RFC 9091)
  AlignmentMode dkim_alignment = AlignmentMode::kRelaxed;  // adkim=
  AlignmentMode spf_alignment = AlignmentMode::kRelaxed;   // aspf=
  uint8_t percent = 100;                                   // pct=, 0..100
  std::vector<ReportUri> aggregate_reports;                // rua= (only the valid URIs)
  std::vector<ReportUri> failure_reports;                  // ruf= (only the valid URIs)
  uint8_t failure_options = kFailureAll;                   // fo=
  std::vector<std::string> report_formats{"afrf"};         // rf=
  uint32_t report_interval_s = 86400;                      // ri=
};

// nullopt when the text does not begin with the tag "v=DMARC1".
std::optional<Record> parse_record(std::string_view text);

}  // namespace rm::dmarc
