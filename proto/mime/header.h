// RFC 5322 header blocks: where a header ends, its fields one by one, unfolding.
//
//   HeaderFieldReader reader(header_block);
//   HeaderField f;
//   while (reader.next(f)) { if (header_name_equals(f.name, "Subject")) ... }
//
// Tolerant of mail found in the wild: LF-only line ends, lines without a colon (skipped as
// garbage), a header with no blank line and no body, NUL bytes (ordinary bytes here).
// Values are kept raw: folding and encoded words stay as written; unfold_header_value()
// removes the folding, decode_header_value() (encoded_word.h) also decodes RFC 2047 words.
// Untrusted input: yes. Thread-safety: pure functions; a reader is owned by one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "proto/mime/scan.h"

namespace rm::mime {

struct HeaderField {
  std::string_view name;       // before the colon, trailing blanks removed
  std::string_view raw_value;  // after the colon up to the field's final line end (folded)
  std::string_view raw;        // the whole field, its final line end included when present
};

// Size of the header block at the start of `message`, including the blank line that ends
// it; the body starts there. Without a blank line within `size_bytes_max`, the header ends
// after the last complete line within that size (or at the end of `message` if shorter),
// and what follows is the body.
size_t header_block_size(std::string_view message, size_t size_bytes_max,
                         const MimeScanner& scan = mime_scanner_best());

// Iterates the fields of a header block (as returned by header_block_size).
class HeaderFieldReader {
 public:
  explicit HeaderFieldReader(std::string_view block) : rest_(block) {}
  // Next field into `out`; false at the end of the block.
  bool next(HeaderField& out);

 private:
  std::string_view rest_;
};

bool header_name_equals(std::string_view a, std::string_view b);

// The first field named `name` (case-insensitive), raw value.
std::optional<std::string_view> find_header_field(std::string_view block, std::string_view name);

// Removes folding (a line end before a blank) and the blanks at both ends.
std::string unfold_header_value(std::string_view raw);

}  // namespace rm::mime
