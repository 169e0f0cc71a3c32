#include "proto/dmarc/public_suffix_list.h"

#include <vector>

#include "proto/dmarc/domain_name.h"

namespace rm::dmarc {
namespace {

constexpr std::string_view kIcannBegin = "===BEGIN ICANN DOMAINS===";
constexpr std::string_view kPrivateBegin = "===BEGIN PRIVATE DOMAINS===";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

// The rule on one line: the text before the first white space.
std::string_view first_word(std::string_view line) {
  size_t start = 0;
  while (start < line.size() && is_space(line[start])) {
    ++start;
  }
  size_t end = start;
  while (end < line.size() && !is_space(line[end])) {
    ++end;
  }
  return line.substr(start, end - start);
}

// The rule's name with every label in A-label form (empty when one cannot be converted or the
// name has no non-ASCII label, so there is nothing more to add).
std::string ascii_form(std::string_view name) {
  bool non_ascii = false;
  for (char c : name) {
    non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
  }
  if (!non_ascii) {
    return {};
  }
  std::string out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    Result<std::string> a = label_to_ascii(label);
    if (!a.ok()) {
      return {};
    }
    if (!out.empty()) {
      out.push_back('.');
    }
    out += *a;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  return out;
}

// Offsets of the label starts of a normalised domain, rightmost label last.
std::vector<size_t> label_starts(std::string_view domain) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < domain.size(); ++i) {
    if (domain[i] == '.') {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

}  // namespace

Result<PublicSuffixList> PublicSuffixList::parse(std::string_view text, const PslLimits& limits) {
  if (text.size() > limits.text_bytes_max) {
    return Status::ResourceExhausted("public suffix list larger than its limit");
  }
  PublicSuffixList psl;
  bool private_section = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view rule = first_word(line);
    if (rule.starts_with("//")) {
      if (line.find(kPrivateBegin) != std::string_view::npos) {
        private_section = true;
      } else if (line.find(kIcannBegin) != std::string_view::npos) {
        private_section = false;
      }
      continue;
    }
    if (rule.empty()) {
      continue;
    }
    if (psl.rule_count_ >= limits.rules_max) {
      return Status::ResourceExhausted("public suffix list has more rules than its limit");
    }
    psl.add_rule(rule, private_section);
  }
  return psl;
}

void PublicSuffixList::add_rule(std::string_view rule, bool private_section) {
  uint8_t bit = private_section ? kNormalPrivate : kNormalIcann;
  if (rule.starts_with("!")) {
    rule.remove_prefix(1);
    bit = private_section ? kExceptionPrivate : kExceptionIcann;
  } else if (rule.starts_with("*.")) {
    rule.remove_prefix(2);
    bit = private_section ? kWildcardPrivate : kWildcardIcann;
  }
  // A '*' anywhere else is not part of the format; such a rule is skipped, like any name
  // that is not a domain.
  if (rule.find('*') != std::string_view::npos) {
    return;
  }
  Result<std::string> name = normalize_domain(rule);
  if (!name.ok()) {
    return;
  }
  rules_[*name] |= bit;
  std::string ascii = ascii_form(*name);
  if (!ascii.empty()) {
    rules_[ascii] |= bit;
  }
  ++rule_count_;
}

uint8_t PublicSuffixList::bits_for(std::string_view name, PslSections sections) const {
  auto it = rules_.find(name);
  if (it == rules_.end()) {
    return 0;
  }
  uint8_t bits = it->second;
  if (sections == PslSections::kIcannOnly) {
    bits &= kNormalIcann | kWildcardIcann | kExceptionIcann;
  }
  return bits;
}

size_t PublicSuffixList::suffix_labels(std::string_view domain, PslSections sections) const {
  const std::vector<size_t> starts = label_starts(domain);
  const size_t labels = starts.size();
  size_t best = 1;  // the implicit "*" rule
  uint8_t parent_bits = 0;
  for (size_t n = 1; n <= labels; ++n) {
    std::string_view suffix = domain.substr(starts[labels - n]);
    uint8_t bits = bits_for(suffix, sections);
    if (bits & (kExceptionIcann | kExceptionPrivate)) {
      return n - 1;  // an exception prevails over every other rule
    }
    bool normal = bits & (kNormalIcann | kNormalPrivate);
    bool wildcard = parent_bits & (kWildcardIcann | kWildcardPrivate);
    if (normal || wildcard) {
      best = n;
    }
    parent_bits = bits;
  }
  return best;
}

Result<std::string> PublicSuffixList::public_suffix(std::string_view domain,
                                                    PslSections sections) const {
  Result<std::string> name = normalize_domain(domain);
  if (!name.ok()) {
    return name.status();
  }
  const std::vector<size_t> starts = label_starts(*name);
  size_t n = suffix_labels(*name, sections);
  if (n == 0) {
    n = 1;  // an exception rule on a top-level label: keep the label
  }
  return name->substr(starts[starts.size() - n]);
}

Result<std::string> PublicSuffixList::organizational_domain(std::string_view domain,
                                                            PslSections sections) const {
  Result<std::string> name = normalize_domain(domain);
  if (!name.ok()) {
    return name.status();
  }
  const std::vector<size_t> starts = label_starts(*name);
  size_t n = suffix_labels(*name, sections) + 1;
  if (n > starts.size()) {
    return name;
  }
  return name->substr(starts[starts.size() - n]);
}

}  // namespace rm::dmarc
