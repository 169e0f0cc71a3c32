// Fuzzes the DMARC input paths with the same bytes: the record parser, the RFC5322.From
// reader (as a header block and as one field's value), the Public Suffix List (as list text
// and as a domain to look up) and the evaluator fed the bytes as DNS answers.
// Checks: the record stays within its bounds; a From domain is normalised; an organizational
// domain is a suffix of its domain that the public suffix is a suffix of; the evaluator ends
// within three lookups and its Authentication-Results text has no line break.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "proto/dmarc/domain_name.h"
#include "proto/dmarc/evaluator.h"
#include "proto/dmarc/from_domain.h"
#include "proto/dmarc/public_suffix_list.h"
#include "proto/dmarc/record.h"

namespace {

using namespace rm::dmarc;

constexpr std::string_view kList =
    "// ===BEGIN ICANN DOMAINS===\ncom\nuk\nco.uk\n*.ck\n!www.ck\njp\n*.kawasaki.jp\n"
    "!city.kawasaki.jp\n公司.cn\n// ===BEGIN PRIVATE DOMAINS===\nblogspot.com\n";

const PublicSuffixList& list() {
  static const PublicSuffixList psl = std::move(PublicSuffixList::parse(kList)).value();
  return psl;
}

void check_record(std::string_view text) {
  std::optional<Record> r = parse_record(text);
  if (!r) {
    return;
  }
  RM_ASSERT(r->percent <= 100);
  RM_ASSERT(r->aggregate_reports.size() <= kReportUrisMax);
  RM_ASSERT(r->failure_reports.size() <= kReportUrisMax);
  RM_ASSERT(r->report_formats.size() <= kReportFormatsMax);
  RM_ASSERT(r->failure_options != 0);
}

void check_from(std::string_view text) {
  for (FromDomain f : {extract_from_domain(text), from_domain_of_value(text)}) {
    if (f.ok()) {
      rm::Result<std::string> again = normalize_domain(f.domain);
      RM_ASSERT(again.ok() && *again == f.domain);
    }
  }
}

void check_suffixes(std::string_view text) {
  rm::Result<PublicSuffixList> own = PublicSuffixList::parse(text);
  const PublicSuffixList* own_list = own.ok() ? &*own : nullptr;
  for (const PublicSuffixList* psl : {&list(), own_list}) {
    if (psl == nullptr) {
      continue;
    }
    rm::Result<std::string> org = psl->organizational_domain(text);
    rm::Result<std::string> suffix = psl->public_suffix(text);
    RM_ASSERT(org.ok() == suffix.ok());
    if (org.ok()) {
      RM_ASSERT(normalize_domain(text)->ends_with(*org));
      RM_ASSERT(org->ends_with(*suffix));
    }
  }
}

void check_evaluator(std::string_view text, uint8_t flags) {
  EvaluationInput input{"mail.example.co.uk",
                        {(flags & 1) != 0, (flags & 2) ? "example.co.uk" : "other.com"},
                        {{(flags & 4) != 0, (flags & 8) ? "mail.example.co.uk" : "x.com"}},
                        flags};
  Evaluator ev(list(), input);
  int steps = 0;
  while (std::optional<Query> q = ev.step()) {
    RM_ASSERT(++steps <= 3);
    LookupAnswer a;
    a.status = static_cast<LookupStatus>((flags >> (2 * steps)) % 3);
    // Split the bytes into TXT records at NULs.
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nul = rest.find('\0');
      a.txt.emplace_back(rest.substr(0, nul));
      rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
    }
    ev.provide(a);
  }
  std::string ar = ev.outcome().authentication_results();
  RM_ASSERT(ar.find('\r') == std::string::npos && ar.find('\n') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_record(text);
  check_from(text);
  check_suffixes(text);
  check_evaluator(text, flags);
  return 0;
}
