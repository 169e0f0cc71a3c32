#include "proto/pop3/message.h"

#include "proto/smtp/data_decoder.h"

namespace rm::pop3 {

size_t TopCut::keep(std::string_view chunk) {
  size_t pos = 0;
  while (pos < chunk.size() && !done_) {
    if (after_cr_) {
      after_cr_ = false;
      if (chunk[pos] == '\n') {
        ++pos;  // the LF of a CRLF whose line was counted at its CR
        continue;
      }
    }
    const size_t end = pos + smtp::find_cr_or_lf(chunk.data() + pos, chunk.size() - pos);
    if (end == chunk.size()) {
      line_start_ = line_start_ && end == pos;
      return chunk.size();  // the line goes on in the next chunk
    }
    const bool empty_line = line_start_ && end == pos;
    after_cr_ = chunk[end] == '\r';
    pos = end + 1;
    line_start_ = true;
    if (in_header_) {
      if (empty_line) {
        in_header_ = false;
        done_ = lines_left_ == 0;
      }
    } else {
      done_ = --lines_left_ == 0;
    }
  }
  if (done_ && after_cr_ && pos < chunk.size() && chunk[pos] == '\n') {
    after_cr_ = false;
    ++pos;  // keep a CRLF whole
  }
  return pos;
}

MultilineWriter::MultilineWriter(std::optional<uint32_t> top_body_lines) {
  if (top_body_lines) {
    cut_.emplace(*top_body_lines);
  }
}

void MultilineWriter::feed(std::string_view chunk, std::string& out) {
  if (cut_) {
    chunk = chunk.substr(0, cut_->keep(chunk));
  }
  // Room for a few stuffed dots and line-end rewrites without reallocating.
  out.reserve(out.size() + chunk.size() + chunk.size() / 64 + 8);
  stuffer_.feed(chunk, out);
}

void MultilineWriter::finish(std::string& out) {
  stuffer_.finish(out);
}

void append_multiline(std::string_view message, std::string& out) {
  MultilineWriter writer(std::nullopt);
  writer.feed(message, out);
  writer.finish(out);
}

std::string_view top_of_message(std::string_view message, uint32_t body_lines) {
  TopCut cut(body_lines);
  return message.substr(0, cut.keep(message));
}

}  // namespace rm::pop3
