#include "proto/imap/sequence_set.h"

#include <algorithm>
#include <charconv>

#include "core/base/assert.h"

namespace rm::imap {
namespace {

uint32_t resolve_end(uint32_t v, uint32_t max) {
  return v == kStar ? max : v;
}

// nz-number: 1..4294967295 without leading zeros (RFC 9051 allows none; we are lenient on
// leading zeros only when the value is non-zero) or `*`.
bool parse_end(std::string_view s, uint32_t& out) {
  if (s == "*") {
    out = kStar;
    return true;
  }
  if (s.empty() || s.size() > 10) {
    return false;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > 0xffffffffu) {
    return false;
  }
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

SequenceSet SequenceSet::saved_result() {
  SequenceSet s;
  s.saved_ = true;
  return s;
}

SequenceSet SequenceSet::range(uint32_t first, uint32_t last) {
  SequenceSet s;
  s.ranges_.push_back({first, last});
  return s;
}

bool SequenceSet::contains(uint32_t n, uint32_t max) const {
  if (max == 0 || n == 0 || n > max) {
    return false;
  }
  for (const SequenceRange& r : ranges_) {
    uint32_t a = resolve_end(r.first, max);
    uint32_t b = resolve_end(r.last, max);
    if (a > b) {
      std::swap(a, b);
    }
    if (n >= a && n <= b) {
      return true;
    }
  }
  return false;
}

bool SequenceSet::within(uint32_t max) const {
  for (const SequenceRange& r : ranges_) {
    if ((r.first != kStar && r.first > max) || (r.last != kStar && r.last > max)) {
      return false;
    }
  }
  return true;
}

ResolvedSet SequenceSet::resolve(uint32_t max) const {
  if (max == 0) {
    return {};
  }
  std::vector<ResolvedSet::Range> out;
  out.reserve(ranges_.size());
  for (const SequenceRange& r : ranges_) {
    uint32_t a = resolve_end(r.first, max);
    uint32_t b = resolve_end(r.last, max);
    if (a > b) {
      std::swap(a, b);
    }
    if (a > max) {
      continue;
    }
    out.push_back({a, std::min(b, max)});
  }
  return ResolvedSet::from_ranges(std::move(out));
}

ResolvedSet ResolvedSet::from_ranges(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& x, const Range& y) { return x.first < y.first; });
  ResolvedSet set;
  for (const Range& r : ranges) {
    RM_ASSERT(r.first >= 1 && r.first <= r.last);
    if (!set.ranges_.empty() && static_cast<uint64_t>(set.ranges_.back().last) + 1 >= r.first) {
      set.ranges_.back().last = std::max(set.ranges_.back().last, r.last);
    } else {
      set.ranges_.push_back(r);
    }
  }
  return set;
}

bool ResolvedSet::contains(uint32_t n) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), n,
                             [](uint32_t v, const Range& r) { return v < r.first; });
  if (it == ranges_.begin()) {
    return false;
  }
  --it;
  return n <= it->last;
}

uint64_t ResolvedSet::count() const {
  uint64_t total = 0;
  for (const Range& r : ranges_) {
    total += static_cast<uint64_t>(r.last) - r.first + 1;
  }
  return total;
}

ResolvedSet::Iterator ResolvedSet::begin() const {
  if (ranges_.empty()) {
    return end();
  }
  return Iterator(ranges_.data(), ranges_.data() + ranges_.size(), ranges_.front().first);
}

ResolvedSet::Iterator ResolvedSet::end() const {
  const Range* end = ranges_.data() + ranges_.size();
  return Iterator(end, end, 0);
}

std::optional<SequenceSet> parse_sequence_set(std::string_view text) {
  if (text == "$") {
    return SequenceSet::saved_result();
  }
  SequenceSet set;
  size_t count = 0;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (++count > kSequenceRangesMax) {
      return std::nullopt;
    }
    const size_t colon = item.find(':');
    SequenceRange r;
    if (colon == std::string_view::npos) {
      if (!parse_end(item, r.first)) {
        return std::nullopt;
      }
      r.last = r.first;
    } else if (!parse_end(item.substr(0, colon), r.first) ||
               !parse_end(item.substr(colon + 1), r.last)) {
      return std::nullopt;
    }
    set.add(r);
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return set;
}

std::string format_sequence_set(std::span<const uint32_t> sorted) {
  std::string out;
  char buf[16];
  auto append_number = [&](uint32_t v) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, end);
  };
  size_t i = 0;
  while (i < sorted.size()) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) {
      ++j;
    }
    if (!out.empty()) {
      out.push_back(',');
    }
    append_number(sorted[i]);
    if (j > i) {
      out.push_back(':');
      append_number(sorted[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace rm::imap
