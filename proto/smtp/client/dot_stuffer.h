// DotStuffer: a message body turned into its SMTP DATA wire form, chunk by chunk; and the
// BDAT framing (RFC 3030) for bodies sent with CHUNKING.
//
// DATA (RFC 5321 §4.5.2): a '.' starting a line is doubled, the body is made to end with
// CRLF, and ".\r\n" ends it. Every line end goes out as CRLF: a bare LF or a bare CR in
// the body becomes CRLF too, so that no receiver can see an end of data that is not the
// real one (SMTP smuggling through this relay). Chunks may split the body anywhere,
// including between a CR and its LF; the output does not depend on where.
// BDAT sends the bytes as they are: no stuffing and no line-end rewriting.
// Thread-safety: none; one stuffer per message.
// Untrusted input: the body's bytes, of any content.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rm::smtp {

class DotStuffer {
 public:
  // Appends the wire form of `chunk` to `out`.
  // REQUIRES: finish() not called yet.
  void feed(std::string_view chunk, std::string& out);
  // Appends what ends the data: a CRLF when the body did not end with a line end, then
  // ".\r\n".
  // REQUIRES: finish() not called yet.
  void finish(std::string& out);

  uint64_t body_bytes() const { return body_bytes_; }  // fed so far
  bool finished() const { return finished_; }

 private:
  bool line_start_ = true;  // the next byte starts a line
  bool skip_lf_ = false;    // a CR was last: a LF next belongs to it
  bool finished_ = false;
  uint64_t body_bytes_ = 0;
};

// Appends "BDAT <size>[ LAST]\r\n" and then `chunk` to `out`.
void append_bdat(std::string_view chunk, bool last, std::string& out);

}  // namespace rm::smtp
