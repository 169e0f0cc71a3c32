#include "proto/imap/command_reader.h"

#include <algorithm>
#include <optional>

#include "proto/imap/char_class.h"

namespace rm::imap {
namespace {

// Enough of a discarded line's end to hold a literal header "~{18446744073709551615+}".
constexpr size_t kTailBytes = 32;
// A reader whose command buffer grew past this gives the memory back after the command.
constexpr size_t kKeepCapacityBytes = 256 * 1024;

struct LiteralHeader {
  uint64_t size = 0;
  bool synchronizing = true;
  bool binary = false;
  bool overflow = false;
};

// Recognizes "{n}", "{n+}" or "~{n}" at the end of a line.
std::optional<LiteralHeader> literal_header_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') {
    return std::nullopt;
  }
  size_t end = line.size() - 1;  // index of '}'
  LiteralHeader h;
  if (end > 0 && line[end - 1] == '+') {
    h.synchronizing = false;
    --end;
  }
  size_t start = end;
  while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9') {
    --start;
  }
  if (start == end || start == 0 || line[start - 1] != '{') {
    return std::nullopt;
  }
  if (end - start > 19) {
    h.overflow = true;
  } else {
    for (size_t k = start; k < end; ++k) {
      h.size = h.size * 10 + static_cast<uint64_t>(line[k] - '0');
    }
  }
  h.binary = start >= 2 && line[start - 2] == '~';
  return h;
}

bool iequal_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t k = 0; k < a.size(); ++k) {
    if ((a[k] | 0x20) != (b[k] | 0x20)) {
      return false;
    }
  }
  return true;
}


std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace

std::string_view leading_tag(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && n < 256 && is_tag_char(text[n])) {
    ++n;
  }
  if (n == 0 || n == 256 || (n < text.size() && text[n] != ' ')) {
    return {};
  }
  return text.substr(0, n);
}

bool is_idle_done(std::string_view line) {
  return iequal_ascii(line, "DONE");
}

ImapCommandReader::ImapCommandReader(ImapReaderLimits limits) : limits_(limits) {}

void ImapCommandReader::feed(std::string_view bytes) {
  // Literal payload that arrives with nothing queued before it goes straight to its place
  // (or is dropped), so a large APPEND is not held twice.
  if (in_pos_ == in_.size() && literal_left_ != 0 &&
      (state_ == State::kLiteral || state_ == State::kSkipLiteral)) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(bytes.size(), literal_left_));
    if (state_ == State::kLiteral) {
      current_.text.append(bytes.substr(0, take));
    }
    literal_left_ -= take;
    bytes.remove_prefix(take);
  }
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
    scan_pos_ = 0;
  } else if (in_pos_ >= 4096 && in_pos_ * 2 >= in_.size()) {
    in_.erase(0, in_pos_);
    scan_pos_ = std::max(scan_pos_, in_pos_) - in_pos_;
    in_pos_ = 0;
  }
  in_.append(bytes);
}

void ImapCommandReader::reset_command() {
  current_.text.clear();
  current_.literals.clear();
  if (current_.text.capacity() > kKeepCapacityBytes) {
    current_.text.shrink_to_fit();
  }
  text_bytes_ = 0;
  literal_bytes_ = 0;
  is_append_ = false;
  first_line_done_ = false;
}

ReaderEvent ImapCommandReader::next() {
  if (!ready_.text.empty() || !ready_.literals.empty()) {
    ready_.text.clear();
    ready_.literals.clear();
    if (ready_.text.capacity() > kKeepCapacityBytes) {
      ready_.text.shrink_to_fit();
    }
  }
  // Each pass consumes input, or moves from a finished literal to reading a line, so the
  // loop is bounded by the input fed.
  for (;;) {
    const size_t avail = in_.size() - in_pos_;
    switch (state_) {
      case State::kLine: {
        const ReaderEvent e = read_line();
        if (e != ReaderEvent::kNeedMore || state_ == State::kLine) {
          return e;
        }
        break;
      }
      case State::kLiteral: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(avail, literal_left_));
        current_.text.append(in_, in_pos_, take);
        in_pos_ += take;
        literal_left_ -= take;
        if (literal_left_ != 0) {
          scan_pos_ = in_pos_;
          return ReaderEvent::kNeedMore;
        }
        scan_pos_ = in_pos_;
        state_ = State::kLine;
        break;
      }
      case State::kSkipLiteral: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(avail, literal_left_));
        in_pos_ += take;
        scan_pos_ = in_pos_;
        literal_left_ -= take;
        if (literal_left_ != 0) {
          return ReaderEvent::kNeedMore;
        }
        state_ = State::kDiscardLine;
        break;
      }
      case State::kDiscardLine: {
        const ReaderEvent e = discard_line();
        if (e == ReaderEvent::kNeedMore && state_ == State::kDiscardLine) {
          return e;
        }
        break;
      }
    }
  }
}

ReaderEvent ImapCommandReader::read_line() {
  const size_t lf = in_.find('\n', std::max(scan_pos_, in_pos_));
  if (lf == std::string::npos) {
    scan_pos_ = in_.size();
    const size_t pending = in_.size() - in_pos_;
    // +1: a CR may be waiting for its LF.
    if (text_bytes_ + pending > limits_.command_text_bytes_max + 1) {
      const std::string_view line(in_.data() + in_pos_, pending);
      discard_tail_.assign(line.substr(line.size() - std::min(line.size(), kTailBytes)));
      in_pos_ = in_.size();
      const ReaderEvent e = fail(ReaderErrorKind::kCommandTooLong, "Command line too long", line);
      state_ = State::kDiscardLine;
      return e;
    }
    return ReaderEvent::kNeedMore;
  }
  const std::string_view raw(in_.data() + in_pos_, lf - in_pos_);
  const std::string_view line = strip_cr(raw);
  in_pos_ = lf + 1;
  scan_pos_ = in_pos_;
  if (text_bytes_ + line.size() > limits_.command_text_bytes_max) {
    const ReaderEvent e = fail(ReaderErrorKind::kCommandTooLong, "Command line too long", line);
    // The line is complete: resynchronize on its end as a discarded line would.
    discard_tail_.assign(raw.substr(raw.size() - std::min(raw.size(), kTailBytes)));
    state_ = State::kDiscardLine;
    in_pos_ = lf;  // let discard_line() see this line's LF
    scan_pos_ = lf;
    return e;
  }
  return end_of_line(line);
}

ReaderEvent ImapCommandReader::end_of_line(std::string_view line) {
  if (!first_line_done_) {
    first_line_done_ = true;
    const std::string_view tag = leading_tag(line);
    if (!tag.empty() && tag.size() < line.size()) {
      std::string_view rest = line.substr(tag.size() + 1);
      is_append_ = iequal_ascii(rest.substr(0, rest.find(' ')), "APPEND");
    }
  }
  const std::optional<LiteralHeader> h = literal_header_at_end(line);
  if (!h) {
    current_.text.append(line);
    std::swap(ready_, current_);
    reset_command();
    state_ = State::kLine;
    return ReaderEvent::kCommand;
  }
  const uint64_t limit = is_append_ ? limits_.append_literal_bytes_max : limits_.literal_bytes_max;
  if (h->overflow) {
    const ReaderEvent e = fail(ReaderErrorKind::kBadLiteralHeader, "Literal size too large", line);
    error_.must_close = !h->synchronizing;
    state_ = State::kLine;
    return e;
  }
  if (current_.literals.size() >= limits_.literals_per_command_max) {
    const ReaderEvent e = fail(ReaderErrorKind::kTooManyLiterals, "Too many literals", line);
    after_refused_literal(h->size, h->synchronizing);
    return e;
  }
  if (h->size <= limit && literal_bytes_ + h->size > limits_.command_literal_bytes_max) {
    const bool append = is_append_;
    const ReaderEvent e =
        fail(ReaderErrorKind::kTooManyLiterals, "Literals too large together", line);
    if (append) {
      error_.status = "NO";  // a resource limit, not a syntax error (RFC 9051 §7.1)
    }
    after_refused_literal(h->size, h->synchronizing);
    return e;
  }
  const bool minus_refused =
      !h->synchronizing && !limits_.literal_plus && h->size > kLiteralMinusBytesMax;
  if (h->size > limit || minus_refused) {
    const ReaderEvent e = fail(ReaderErrorKind::kLiteralTooBig, "Literal too big", line);
    after_refused_literal(h->size, h->synchronizing);
    return e;
  }
  current_.text.append(line);
  current_.text.append("\r\n");
  text_bytes_ += line.size() + 2;
  current_.literals.push_back(
      {current_.text.size(), static_cast<size_t>(h->size), h->binary, h->synchronizing});
  literal_left_ = h->size;
  literal_bytes_ += h->size;
  state_ = State::kLiteral;
  if (h->synchronizing) {
    return ReaderEvent::kContinuationNeeded;
  }
  // Not an event: the caller's loop goes on reading the literal.
  return ReaderEvent::kNeedMore;
}

ReaderEvent ImapCommandReader::fail(ReaderErrorKind kind, std::string_view text,
                                    std::string_view line) {
  const std::string_view first = current_.text.empty() ? line : std::string_view(current_.text);
  error_ = ReaderError{};
  error_.kind = kind;
  // Only a tag followed by its space within the first bytes, so that the answer does not
  // depend on how much of an over-long line had arrived.
  const std::string_view head =
      first.substr(0, std::min(kTagBytesMax, limits_.command_text_bytes_max) + 1);
  const std::string_view tag = leading_tag(head);
  if (tag.size() < head.size()) {
    error_.tag.assign(tag);
  }
  error_.text = text;
  error_.status = "BAD";
  switch (kind) {
    case ReaderErrorKind::kLiteralTooBig:
      error_.code = "TOOBIG";
      error_.status = is_append_ ? "NO" : "BAD";
      break;
    case ReaderErrorKind::kCommandTooLong:
      error_.code = "TOOBIG";
      break;
    case ReaderErrorKind::kTooManyLiterals:
      error_.code = "LIMIT";
      break;
    case ReaderErrorKind::kBadLiteralHeader:
      break;
  }
  reset_command();
  return ReaderEvent::kError;
}

void ImapCommandReader::after_refused_literal(uint64_t size, bool synchronizing) {
  if (synchronizing) {
    // The client waits for a continuation that will not come: the command ends here.
    state_ = State::kLine;
    return;
  }
  if (size > limits_.refused_literal_skip_bytes_max) {
    error_.must_close = true;
    state_ = State::kLine;
    return;
  }
  literal_left_ = size;
  state_ = State::kSkipLiteral;
}

ReaderEvent ImapCommandReader::discard_line() {
  const size_t lf = in_.find('\n', in_pos_);
  const size_t end = lf == std::string::npos ? in_.size() : lf;
  discard_tail_.append(in_, in_pos_, end - in_pos_);
  if (discard_tail_.size() > kTailBytes) {
    discard_tail_.erase(0, discard_tail_.size() - kTailBytes);
  }
  if (lf == std::string::npos) {
    in_pos_ = in_.size();
    scan_pos_ = in_pos_;
    return ReaderEvent::kNeedMore;
  }
  in_pos_ = lf + 1;
  scan_pos_ = in_pos_;
  const std::optional<LiteralHeader> h = literal_header_at_end(strip_cr(discard_tail_));
  discard_tail_.clear();
  if (h && !h->synchronizing && !h->overflow) {
    // Skipping costs no memory; the session's byte and time limits bound it.
    literal_left_ = h->size;
    state_ = State::kSkipLiteral;
  } else {
    state_ = State::kLine;
  }
  return ReaderEvent::kNeedMore;
}

}  // namespace rm::imap
