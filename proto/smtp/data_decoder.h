// DataDecoder: the body of an SMTP DATA command, streamed.
//
// Feeds may split the input anywhere. The decoder removes dot-stuffing (RFC 5321 §4.5.2),
// stops exactly after the end-of-data line "<CRLF>.<CRLF>" — and only there, so a bare LF
// or bare CR can never end a message early (SMTP smuggling) — and leaves what follows (the
// next pipelined command) unconsumed.
// Bare LF / bare CR inside the body: with kReject the message is marked and must be refused
// once its end is reached; with kNormalize each becomes CRLF in the output.
// Size: output beyond `size_bytes_max` is counted and dropped, and too_large() is set.
// Untrusted input: yes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rm::smtp {

enum class BareLinePolicy { kReject, kNormalize };

class DataDecoder {
 public:
  DataDecoder(BareLinePolicy policy, uint64_t size_bytes_max)
      : policy_(policy), size_bytes_max_(size_bytes_max) {}

  // Appends decoded body bytes to `out`; returns how many input bytes were consumed
  // (all of them, unless the end of data was reached).
  size_t feed(std::string_view input, std::string& out);

  bool done() const { return state_ == State::kDone; }
  bool saw_bare_line_end() const { return bare_; }
  bool too_large() const { return body_bytes_ > size_bytes_max_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State { kLineStart, kDot, kDotCr, kMid, kCr, kDone };
  void emit(std::string& out, std::string_view bytes);
  void bare_line_end(std::string& out);

  BareLinePolicy policy_;
  uint64_t size_bytes_max_;
  State state_ = State::kLineStart;
  uint64_t body_bytes_ = 0;
  bool bare_ = false;
};

// Index of the first CR or LF in [data, data+size), or size. SSE2 on x86-64 (part of the
// baseline ISA, so no run-time dispatch is needed), a portable loop elsewhere.
size_t find_cr_or_lf(const char* data, size_t size);

}  // namespace rm::smtp
