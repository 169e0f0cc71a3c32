#include "proto/smtp/client/dot_stuffer.h"

#include "core/base/assert.h"
#include "proto/smtp/data_decoder.h"

namespace rm::smtp {

void DotStuffer::feed(std::string_view chunk, std::string& out) {
  RM_ASSERT(!finished_);
  body_bytes_ += chunk.size();
  size_t i = 0;
  while (i < chunk.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (chunk[i] == '\n') {
        ++i;
        continue;
      }
    }
    if (line_start_ && chunk[i] == '.') {
      out += '.';  // the stuffed dot; the line's own dot is copied with the run below
    }
    const size_t n = find_cr_or_lf(chunk.data() + i, chunk.size() - i);
    out.append(chunk.data() + i, n);
    i += n;
    line_start_ = false;
    if (i < chunk.size()) {
      skip_lf_ = chunk[i] == '\r';
      out += "\r\n";
      line_start_ = true;
      ++i;
    }
  }
}

void DotStuffer::finish(std::string& out) {
  RM_ASSERT(!finished_);
  finished_ = true;
  if (!line_start_) {
    out += "\r\n";
  }
  out += ".\r\n";
}

void append_bdat(std::string_view chunk, bool last, std::string& out) {
  out += "BDAT ";
  out += std::to_string(chunk.size());
  if (last) {
    out += " LAST";
  }
  out += "\r\n";
  out.append(chunk);
}

}  // namespace rm::smtp
