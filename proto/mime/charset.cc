#include "proto/mime/charset.h"

#include <cstdint>

#include "proto/mime/header.h"

namespace rm::mime {
namespace {

enum class Charset { kUnknown, kUtf8, kLatin1, kWindows1252 };

Charset charset_of(std::string_view name) {
  for (std::string_view n : {"utf-8", "utf8", "us-ascii", "ascii", "us"}) {
    if (header_name_equals(name, n)) {
      return Charset::kUtf8;
    }
  }
  for (std::string_view n : {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1"}) {
    if (header_name_equals(name, n)) {
      return Charset::kLatin1;
    }
  }
  for (std::string_view n : {"windows-1252", "cp1252", "x-cp1252"}) {
    if (header_name_equals(name, n)) {
      return Charset::kWindows1252;
    }
  }
  return Charset::kUnknown;
}

// windows-1252 bytes 0x80..0x9F; 0 where the code page leaves a hole (kept as latin1).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

bool charset_known(std::string_view charset) {
  return charset_of(charset) != Charset::kUnknown;
}

std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view bytes) {
  const Charset cs = charset_of(charset);
  if (cs == Charset::kUnknown) {
    return std::nullopt;
  }
  if (cs == Charset::kUtf8) {
    return std::string(bytes);
  }
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    uint32_t cp = b;
    if (cs == Charset::kWindows1252 && b >= 0x80 && b < 0xA0 && kCp1252High[b - 0x80] != 0) {
      cp = kCp1252High[b - 0x80];
    }
    append_utf8(out, cp);
  }
  return out;
}

}  // namespace rm::mime
