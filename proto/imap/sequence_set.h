// IMAP sequence sets (RFC 9051 §9 "sequence-set"): "1:4,7,10:*", "$".
//
// A SequenceSet is what the client wrote: a list of ranges whose ends may be `*`, in any
// order, possibly overlapping. It is never expanded into numbers: `1:4294967295` is one
// range. To use it against a mailbox, resolve it with the mailbox's largest number (message
// count for sequence numbers, largest UID for UIDs); the ResolvedSet is sorted, merged and
// clipped to 1..max, answers contains() by binary search and iterates in ascending order.
//
//   rm::imap::SequenceSet set = ...;           // from a parsed FETCH
//   rm::imap::ResolvedSet r = set.resolve(message_count);
//   for (uint32_t n : r) { ... }               // ascending, each number once
//
// Untrusted input: parse_sequence_set() reads client text; ranges are capped by
// kSequenceRangesMax. Thread-safety: values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rm::imap {

// `*` in a range end: the largest number in use.
inline constexpr uint32_t kStar = 0;
inline constexpr size_t kSequenceRangesMax = 16384;

struct SequenceRange {
  uint32_t first = 1;  // kStar for `*`
  uint32_t last = 1;   // kStar for `*`; may be below `first` ("5:2" is "2:5")
  bool operator==(const SequenceRange&) const = default;
};

class ResolvedSet;

class SequenceSet {
 public:
  SequenceSet() = default;
  static SequenceSet saved_result();  // "$" (RFC 5182 SEARCHRES)
  static SequenceSet range(uint32_t first, uint32_t last);

  // "$": the session substitutes the saved search result; ranges() is then empty.
  bool is_saved_result() const { return saved_; }
  const std::vector<SequenceRange>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty() && !saved_; }
  void add(SequenceRange r) { ranges_.push_back(r); }

  // True when `n` is in the set with `*` standing for `max`. O(ranges); for per-message
  // loops resolve() once instead. Always false when max == 0 (empty mailbox).
  bool contains(uint32_t n, uint32_t max) const;
  // True when every explicit number is within 1..max (sequence numbers beyond the message
  // count are a BAD per RFC 9051 §6.4.*; UIDs beyond it are simply ignored).
  bool within(uint32_t max) const;
  ResolvedSet resolve(uint32_t max) const;

  bool operator==(const SequenceSet&) const = default;

 private:
  std::vector<SequenceRange> ranges_;
  bool saved_ = false;
};

// Sorted, disjoint, non-adjacent, 1-based ranges with explicit ends.
class ResolvedSet {
 public:
  struct Range {
    uint32_t first;
    uint32_t last;
    bool operator==(const Range&) const = default;
  };
  ResolvedSet() = default;
  // Builds from arbitrary ranges (explicit ends, any order, overlapping).
  static ResolvedSet from_ranges(std::vector<Range> ranges);

  bool contains(uint32_t n) const;
  bool empty() const { return ranges_.empty(); }
  uint64_t count() const;  // how many numbers
  std::span<const Range> ranges() const { return ranges_; }

  class Iterator {
   public:
    Iterator(const Range* range, const Range* end, uint32_t value)
        : range_(range), end_(end), value_(value) {}
    uint32_t operator*() const { return value_; }
    Iterator& operator++() {
      if (value_ == range_->last) {
        ++range_;
        value_ = range_ == end_ ? 0 : range_->first;
        return *this;
      }
      ++value_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return range_ == o.range_ && value_ == o.value_; }
    bool operator!=(const Iterator& o) const { return !(*this == o); }

   private:
    friend class ResolvedSet;
    const Range* range_;
    const Range* end_;
    uint32_t value_;
  };
  Iterator begin() const;
  Iterator end() const;

 private:
  std::vector<Range> ranges_;
};

// Parses "1:4,7,*", "$". Returns nullopt on a syntax error, a 0, or too many ranges.
std::optional<SequenceSet> parse_sequence_set(std::string_view text);

// The compact form of sorted, unique numbers: {1,2,3,5,7,8} -> "1:3,5,7:8". Used for
// COPYUID / APPENDUID / ESEARCH ALL. REQUIRES: ascending, no duplicates.
std::string format_sequence_set(std::span<const uint32_t> sorted);

}  // namespace rm::imap
