#include "proto/mime/encoded_word.h"

#include <algorithm>
#include <optional>

#include "proto/mime/charset.h"
#include "proto/mime/header.h"
#include "proto/mime/transfer_encoding.h"

namespace rm::mime {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct EncodedWord {
  size_t length = 0;  // bytes of "=?...?=" in the input
  std::string text;   // decoded, in UTF-8
};

constexpr size_t kCharsetBytesMax = 64;

// Finds the next match at or after a position, remembering the last answer: the positions
// asked for only grow, so trying every "=?" of a long value costs one pass over it in all,
// not one pass each (which would be quadratic).
class ForwardFinder {
 public:
  using FindFn = size_t (*)(std::string_view s, size_t from);
  ForwardFinder(std::string_view s, FindFn find) : s_(s), find_(find) {}
  size_t find_from(size_t from) {
    const bool cached =
        valid_ && from >= searched_from_ && (found_ == std::string_view::npos || from <= found_);
    if (!cached) {
      valid_ = true;
      searched_from_ = from;
      found_ = find_(s_, from);
    }
    return found_;
  }

 private:
  std::string_view s_;
  FindFn find_;
  bool valid_ = false;
  size_t searched_from_ = 0;
  size_t found_ = std::string_view::npos;
};

size_t find_close(std::string_view s, size_t from) {
  return s.find("?=", from);
}
size_t find_blank(std::string_view s, size_t from) {
  return s.find_first_of(" \t", from);
}

struct Finders {
  ForwardFinder close;
  ForwardFinder blank;
};

// The encoded word at s[i], if there is a well-formed one in a known charset. Everything
// that can fail is checked before the text is decoded, so a failed attempt costs O(1)
// beyond the cached searches, and a successful one consumes what it decoded.
std::optional<EncodedWord> encoded_word_at(std::string_view s, size_t i, Finders& finders) {
  if (s.size() - i < 8 || s[i] != '=' || s[i + 1] != '?') {
    return std::nullopt;
  }
  const size_t q1 = s.substr(0, std::min(s.size(), i + 2 + kCharsetBytesMax)).find('?', i + 2);
  if (q1 == std::string_view::npos || q1 + 3 >= s.size() || s[q1 + 2] != '?') {
    return std::nullopt;
  }
  std::string_view charset = s.substr(i + 2, q1 - (i + 2));
  charset = charset.substr(0, charset.find('*'));
  const char enc = static_cast<char>(s[q1 + 1] & ~0x20);  // upper case
  if ((enc != 'B' && enc != 'Q') || !charset_known(charset)) {
    return std::nullopt;
  }
  const size_t end = finders.close.find_from(q1 + 3);
  const size_t blank = finders.blank.find_from(q1 + 3);
  if (end == std::string_view::npos || blank < end) {
    return std::nullopt;  // no end, or a blank inside the text
  }
  const std::string_view text = s.substr(q1 + 3, end - (q1 + 3));
  const std::string bytes =
      enc == 'B' ? decode_base64_lenient(text) : decode_quoted_printable(text, true);
  std::optional<std::string> utf8 = charset_to_utf8(charset, bytes);
  if (!utf8) {
    return std::nullopt;
  }
  return EncodedWord{end + 2 - i, std::move(*utf8)};
}

}  // namespace

std::string decode_header_value(std::string_view raw) {
  const std::string value = unfold_header_value(raw);
  const std::string_view s = value;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  size_t pending_blanks = 0;  // blanks seen after an encoded word, not yet written
  bool after_word = false;
  Finders finders{ForwardFinder(s, find_close), ForwardFinder(s, find_blank)};
  while (i < s.size()) {
    if (is_blank(s[i])) {
      const size_t start = i;
      while (i < s.size() && is_blank(s[i])) {
        ++i;
      }
      if (after_word) {
        pending_blanks = i - start;
      } else {
        out.append(s.substr(start, i - start));
      }
      continue;
    }
    if (std::optional<EncodedWord> word = encoded_word_at(s, i, finders)) {
      out.append(word->text);  // blanks between two encoded words are dropped
      i += word->length;
      pending_blanks = 0;
      after_word = true;
      continue;
    }
    if (after_word) {
      out.append(s.substr(i - pending_blanks, pending_blanks));
    }
    pending_blanks = 0;
    after_word = false;
    // Copy up to the next blank or possible encoded word.
    const size_t start = i;
    ++i;
    while (i < s.size() && !is_blank(s[i]) && s[i] != '=') {
      ++i;
    }
    out.append(s.substr(start, i - start));
  }
  return out;
}

}  // namespace rm::mime
