#include "proto/smtp/data_decoder.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rm::smtp {

size_t find_cr_or_lf(const char* data, size_t size) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; i + 16 <= size; i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(chunk, cr), _mm_cmpeq_epi8(chunk, lf)));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
  }
#endif
  for (; i < size; ++i) {
    if (data[i] == '\r' || data[i] == '\n') {
      return i;
    }
  }
  return size;
}

void DataDecoder::emit(std::string& out, std::string_view bytes) {
  // Keeps exactly the first size_bytes_max bytes, however the input was split.
  if (body_bytes_ < size_bytes_max_) {
    out.append(bytes.substr(0, static_cast<size_t>(size_bytes_max_ - body_bytes_)));
  }
  body_bytes_ += bytes.size();
}

void DataDecoder::bare_line_end(std::string& out) {
  bare_ = true;
  if (policy_ == BareLinePolicy::kNormalize) {
    emit(out, "\r\n");
  }
}

size_t DataDecoder::feed(std::string_view input, std::string& out) {
  size_t i = 0;
  while (i < input.size() && state_ != State::kDone) {
    const char c = input[i];
    switch (state_) {
      case State::kLineStart:
        state_ = (c == '.') ? State::kDot : State::kMid;
        if (c == '.') {
          ++i;
        }
        break;
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else {
          state_ = State::kMid;  // a stuffed dot: dropped; the byte is read in kMid
          if (c == '\n') {
            emit(out, ".");  // "." then a bare LF is a line of one dot, not an end
          }
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          state_ = State::kDone;
          ++i;
        } else {
          emit(out, ".");
          bare_line_end(out);  // ".\r" + something: a bare CR
          state_ = State::kMid;
        }
        break;
      case State::kMid: {
        const size_t n = find_cr_or_lf(input.data() + i, input.size() - i);
        emit(out, input.substr(i, n));
        i += n;
        if (i < input.size()) {
          if (input[i] == '\r') {
            state_ = State::kCr;
          } else {
            bare_line_end(out);  // a LF without CR: not a line start, so no end of data
          }
          ++i;
        }
        break;
      }
      case State::kCr:
        if (c == '\n') {
          emit(out, "\r\n");
          state_ = State::kLineStart;
          ++i;
        } else {
          bare_line_end(out);  // a CR without LF
          state_ = State::kMid;
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

}  // namespace rm::smtp
