// HeaderFieldReader: walks the header fields of a message's header block (RFC 5322 §2.2),
// keeping each field's exact bytes so that callers can find, read or remove fields.
//
//   HeaderFieldReader reader(message);
//   while (std::optional<HeaderField> f = reader.next()) {
//     if (header_name_is(f->name, "From")) { ... f->value ... }
//   }
//
// The block ends at the first empty line or at the end of the input, whichever comes first;
// lines may end in CRLF or a bare LF. A line that starts with a space or a tab continues the
// field before it (folding). A line that is not a field (no colon, or a name with characters
// RFC 5322 does not allow) is returned with an empty name so that offsets stay exact.
// Untrusted input: yes (message headers). One pass, linear in the block's size.
// Thread-safety: a reader is used by one thread; it only reads the caller's bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace rm::mail_auth {

struct HeaderField {
  std::string_view name;   // without trailing white space; empty when the line is not a field
  std::string_view value;  // everything after the colon, folds kept, without the last line end
  size_t offset = 0;       // of the field's first byte in the block
  size_t size = 0;         // the field's bytes, its folded lines and its final line end included
};

class HeaderFieldReader {
 public:
  explicit HeaderFieldReader(std::string_view block) : block_(block) {}

  // The next field, or nullopt at the end of the header block.
  std::optional<HeaderField> next();

  // Where the header block ended (the offset of the empty line, or the input's size) once
  // next() has returned nullopt.
  size_t position() const { return pos_; }

 private:
  std::string_view block_;
  size_t pos_ = 0;
  bool done_ = false;
};

// ASCII case-insensitive comparison of header field names.
bool header_name_is(std::string_view name, std::string_view expected);

}  // namespace rm::mail_auth
