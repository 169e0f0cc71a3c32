#include "proto/imap/search.h"

#include <algorithm>
#include <functional>

#include "proto/imap/date_time.h"
#include "proto/imap/flags.h"

namespace rm::imap {
namespace {

// The lower-case code point for the upper-case letters we fold, else cp itself.
uint32_t fold_code_point(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') {
    return cp + 32;
  }
  if (cp < 0xC0) {
    return cp;
  }
  if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
      (cp >= 0x410 && cp <= 0x42F)) {
    return cp + 32;
  }
  if (cp >= 0x400 && cp <= 0x40F) {
    return cp + 80;
  }
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x138 && cp != 0x149 && cp != 0x178 &&
      cp != 0x17F) {
    // Latin Extended-A pairs: even/odd below U+0138, odd/even from U+0139 to U+0148 and
    // U+014A onwards.
    const bool odd_first = (cp >= 0x139 && cp <= 0x148) || cp >= 0x179;
    if (odd_first ? (cp % 2 == 1) : (cp % 2 == 0)) {
      return cp + 1;
    }
  }
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool header_contains(SearchSubject& msg, std::string_view field, std::string_view needle) {
  for (const std::string& value : msg.header_values(field)) {
    if (contains_folded(value, needle)) {
      return true;
    }
  }
  return false;
}

int32_t sent_day(SearchSubject& msg, const SearchContext& context) {
  if (std::optional<int32_t> day = msg.sent_date_day()) {
    return *day;
  }
  return day_of(msg.internal_date(), context.zone_minutes);
}

bool in_set(const SearchKey& key, uint32_t n, uint32_t max, const SearchSubject& msg) {
  if (key.set.is_saved_result()) {
    return msg.in_saved_result();
  }
  return key.resolved ? key.resolved->contains(n) : key.set.contains(n, max);
}

bool evaluate(const SearchKey& key, SearchSubject& msg, const SearchContext& context);

// Cheap children first: a cheap false (AND) or true (OR) spares the expensive ones.
bool evaluate_and(const SearchKey& key, SearchSubject& msg, const SearchContext& context) {
  for (int pass = 0; pass < 2; ++pass) {
    for (const SearchKey& child : key.children) {
      if (child.expensive == (pass == 1) && !evaluate(child, msg, context)) {
        return false;
      }
    }
  }
  return true;
}

bool evaluate_or(const SearchKey& key, SearchSubject& msg, const SearchContext& context) {
  for (int pass = 0; pass < 2; ++pass) {
    for (const SearchKey& child : key.children) {
      if (child.expensive == (pass == 1) && evaluate(child, msg, context)) {
        return true;
      }
    }
  }
  return false;
}

bool evaluate(const SearchKey& key, SearchSubject& msg, const SearchContext& context) {
  switch (key.kind) {
    case SearchKeyKind::kAll:
      return true;
    case SearchKeyKind::kAnd:
      return evaluate_and(key, msg, context);
    case SearchKeyKind::kOr:
      return evaluate_or(key, msg, context);
    case SearchKeyKind::kNot:
      return key.children.size() == 1 && !evaluate(key.children[0], msg, context);
    case SearchKeyKind::kFlagSet:
      return (msg.system_flags() & key.flag) == key.flag;
    case SearchKeyKind::kFlagClear:
      return (msg.system_flags() & key.flag) == 0;
    case SearchKeyKind::kKeyword:
      return msg.has_keyword(key.text);
    case SearchKeyKind::kUnkeyword:
      return !msg.has_keyword(key.text);
    case SearchKeyKind::kHeader:
      return header_contains(msg, key.field, key.text);
    case SearchKeyKind::kBody:
      return contains_folded(msg.body_text(), key.text);
    case SearchKeyKind::kText:
      return contains_folded(msg.full_text(), key.text);
    case SearchKeyKind::kBefore:
      return day_of(msg.internal_date(), context.zone_minutes) < key.day;
    case SearchKeyKind::kOn:
      return day_of(msg.internal_date(), context.zone_minutes) == key.day;
    case SearchKeyKind::kSince:
      return day_of(msg.internal_date(), context.zone_minutes) >= key.day;
    case SearchKeyKind::kSentBefore:
      return sent_day(msg, context) < key.day;
    case SearchKeyKind::kSentOn:
      return sent_day(msg, context) == key.day;
    case SearchKeyKind::kSentSince:
      return sent_day(msg, context) >= key.day;
    case SearchKeyKind::kLarger:
      return msg.size() > key.number;
    case SearchKeyKind::kSmaller:
      return msg.size() < key.number;
    case SearchKeyKind::kModSeq:
      return msg.modseq() >= key.number;
    case SearchKeyKind::kSequence:
      return in_set(key, msg.sequence_number(), context.message_count, msg);
    case SearchKeyKind::kUid:
      return in_set(key, msg.uid(), context.uid_max, msg);
  }
  return false;
}

}  // namespace

std::optional<int32_t> SearchSubject::sent_date_day() {
  std::span<const std::string> dates = header_values("Date");
  if (dates.empty()) {
    return std::nullopt;
  }
  return parse_rfc5322_day(dates.front());
}

void prepare_search(SearchKey& key, const SearchContext& context) {
  if (key.kind == SearchKeyKind::kSequence) {
    key.resolved = key.set.resolve(context.message_count);
  } else if (key.kind == SearchKeyKind::kUid) {
    key.resolved = key.set.resolve(context.uid_max);
  }
  for (SearchKey& child : key.children) {
    prepare_search(child, context);
  }
}

bool search_matches(const SearchKey& key, SearchSubject& msg, const SearchContext& context) {
  return evaluate(key, msg, context);
}

void fold_case_into(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
      ++i;
      continue;
    }
    // Only 2-byte sequences hold letters we fold; everything else is copied.
    if ((c & 0xE0) == 0xC0 && c >= 0xC2 && i + 1 < text.size() &&
        (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      const uint32_t cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      append_utf8(out, fold_code_point(cp));
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
    ++i;
  }
}

std::string fold_case(std::string_view text) {
  std::string out;
  fold_case_into(text, out);
  return out;
}

bool contains_folded(std::string_view haystack, std::string_view folded_needle) {
  if (folded_needle.empty()) {
    return true;
  }
  if (haystack.size() < folded_needle.size()) {
    return false;  // folding keeps the length in bytes
  }
  const std::string folded = fold_case(haystack);
  // Boyer-Moore: linear in the haystack, whatever the needle.
  const std::boyer_moore_searcher searcher(folded_needle.begin(), folded_needle.end());
  return std::search(folded.begin(), folded.end(), searcher) != folded.end();
}

}  // namespace rm::imap
