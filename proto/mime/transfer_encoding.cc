#include "proto/mime/transfer_encoding.h"

#include <cstdint>

namespace rm::mime {
namespace {

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

std::string decode_base64_lenient(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t bits = 0;
  int count = 0;
  for (char ch : text) {
    if (ch == '=') {
      break;
    }
    const int v = base64_value(static_cast<unsigned char>(ch));
    if (v < 0) {
      continue;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out.push_back(static_cast<char>(bits >> 4));
  } else if (count == 3) {
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text, bool q_encoding) {
  std::string out;
  out.reserve(text.size());
  size_t line_start = 0;  // in `out`: where trailing blanks may be trimmed back to
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      while (out.size() > line_start && is_blank(out.back())) {
        out.pop_back();
      }
      if (!out.empty() && out.size() > line_start && out.back() == '\r') {
        out.pop_back();
        while (out.size() > line_start && is_blank(out.back())) {
          out.pop_back();
        }
        out.push_back('\r');
      }
      out.push_back('\n');
      line_start = out.size();
      continue;
    }
    if (c == '_' && q_encoding) {
      out.push_back(' ');
      continue;
    }
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    // "=" then blanks to the line end: a soft line break.
    size_t j = i + 1;
    while (j < text.size() && is_blank(text[j])) {
      ++j;
    }
    if (j < text.size() && text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') {
      i = j + 1;
      line_start = out.size();
      continue;
    }
    if (j < text.size() && text[j] == '\n') {
      i = j;
      line_start = out.size();
      continue;
    }
    if (j == text.size()) {
      break;
    }
    const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi >= 0 && lo >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

}  // namespace rm::mime
