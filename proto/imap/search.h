// IMAP SEARCH: the parsed key tree (RFC 9051 §6.4.4, RFC 3501 NEW/OLD/RECENT, RFC 7162
// MODSEQ, RFC 5182 "$") and its evaluation against one message.
//
// The parser (command.h) builds a SearchKey tree; the server runs search_matches() on each
// candidate message through a SearchSubject it implements. Cheap keys (flags, numbers,
// dates, sizes) are evaluated before keys that need the message's headers or text, so a
// subject's lazy accessors are only called when the cheap part has not decided already.
//
//   struct Msg : rm::imap::SearchSubject { ... };
//   rm::imap::SearchContext ctx{.message_count = n, .uid_max = u, .zone_minutes = 60};
//   if (rm::imap::search_matches(cmd.search.key, msg, ctx)) ...
//
// String keys match as case-insensitive substrings: ASCII plus the simple case folding of
// Latin-1, Greek and Cyrillic letters; needles are folded once when parsed.
// Dates compare whole days: SENT* keys use the day written in the Date header (in its own
// zone; the internal date when the header is missing or unreadable), the others the day of
// the internal date in the server's zone (SearchContext::zone_minutes).
// Untrusted input: the key tree came from a client (bounded by the parser); the subject's
// text came from mail. Thread-safety: pure functions; a SearchSubject is the caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/imap/sequence_set.h"

namespace rm::imap {

inline constexpr size_t kSearchKeysMax = 1000;  // nodes in one search program
inline constexpr size_t kSearchDepthMax = 32;   // nesting of NOT / OR / parentheses

enum class SearchKeyKind : uint8_t {
  kAll,
  kAnd,        // every child (a parenthesized list, or the program itself)
  kOr,         // two children
  kNot,        // one child
  kFlagSet,    // `flag` (SystemFlag bits, all of them) set: SEEN, DELETED, RECENT...
  kFlagClear,  // `flag` clear: UNSEEN, UNDELETED, OLD...
  kKeyword,    // `text` keyword set
  kUnkeyword,
  kHeader,  // header `field` contains `text` (FROM, TO, CC, BCC, SUBJECT, HEADER)
  kBody,    // body contains `text`
  kText,    // header or body contains `text`
  kBefore,  // internal date's day < `day`
  kOn,
  kSince,  // >=
  kSentBefore,
  kSentOn,
  kSentSince,
  kLarger,    // size > `number`
  kSmaller,   // size < `number`
  kModSeq,    // modseq >= `number`
  kSequence,  // sequence number in `set`
  kUid,       // UID in `set`
};

struct SearchKey {
  SearchKeyKind kind = SearchKeyKind::kAll;
  uint32_t flag = 0;
  uint64_t number = 0;
  int32_t day = 0;    // days since 1970-01-01
  std::string field;  // header field name
  std::string text;   // keyword as written, or the needle case-folded (fold_case)
  SequenceSet set;
  std::vector<SearchKey> children;
  bool expensive = false;  // needs headers or text (this key or a child)
  // Filled by prepare_search(): `set` resolved against the mailbox, for O(log n) lookups.
  std::optional<ResolvedSet> resolved;
};

enum SearchReturn : uint32_t {  // ESEARCH RETURN options (RFC 4731, RFC 5182)
  kSearchReturnMin = 1u << 0,
  kSearchReturnMax = 1u << 1,
  kSearchReturnAll = 1u << 2,
  kSearchReturnCount = 1u << 3,
  kSearchReturnSave = 1u << 4,
};

class SearchSubject {
 public:
  virtual ~SearchSubject() = default;
  virtual uint32_t sequence_number() const = 0;
  virtual uint32_t uid() const = 0;
  virtual uint32_t system_flags() const = 0;  // SystemFlag bits (flags.h), kFlagRecent included
  virtual bool has_keyword(std::string_view keyword) const = 0;  // case-insensitive
  virtual uint64_t size() const = 0;                             // RFC822.SIZE
  virtual int64_t internal_date() const = 0;                     // Unix seconds
  virtual uint64_t modseq() const { return 0; }
  // The message is in the session's saved search result ("$").
  virtual bool in_saved_result() const { return false; }

  // Lazy and possibly expensive; the subject may cache. Every field named `name`
  // (case-insensitive), unfolded and with RFC 2047 words decoded; empty when absent.
  virtual std::span<const std::string> header_values(std::string_view name) = 0;
  // The body without the header, transfer encodings decoded where the server can.
  virtual std::string_view body_text() = 0;
  // The header and the body, for TEXT.
  virtual std::string_view full_text() = 0;
  // The day written in the Date header (SENT* keys). The default parses the first
  // header_values("Date"); override it when the store keeps the parsed date.
  virtual std::optional<int32_t> sent_date_day();
};

struct SearchContext {
  uint32_t message_count = 0;  // `*` in sequence-number sets
  uint32_t uid_max = 0;        // `*` in UID sets
  int zone_minutes = 0;        // the server's zone for internal dates, minutes east of UTC
};

// Optional, once per command before a loop over many messages: resolves every sequence set
// in the tree against the context's mailbox size, so each test is a binary search instead
// of a walk over the client's ranges. Call it again if the mailbox size changes.
void prepare_search(SearchKey& key, const SearchContext& context);

bool search_matches(const SearchKey& key, SearchSubject& msg, const SearchContext& context);

// Simple case folding for matching (see above). Invalid UTF-8 bytes are kept as they are.
std::string fold_case(std::string_view text);
void fold_case_into(std::string_view text, std::string& out);  // replaces `out`
// `folded_needle` must come from fold_case(); `haystack` is folded here.
bool contains_folded(std::string_view haystack, std::string_view folded_needle);

}  // namespace rm::imap
