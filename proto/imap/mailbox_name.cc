#include "proto/imap/mailbox_name.h"

#include <cstdint>

namespace rm::imap {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64_value(char c) {
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
  if (c == ',') {
    return 63;
  }
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one UTF-8 sequence at text[i]; returns its length or 0 when invalid.
size_t decode_utf8(std::string_view text, size_t i, uint32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
  const uint8_t c = b(0);
  size_t len;
  uint32_t min;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

// Decodes the base64 run of one "&...-" group into UTF-16 units, then into UTF-8.
bool decode_group(std::string_view run, std::string& out) {
  uint32_t bits = 0;
  int nbits = 0;
  uint32_t high = 0;  // a pending high surrogate
  bool any = false;
  for (char c : run) {
    const int v = b64_value(c);
    if (v < 0) {
      return false;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits < 16) {
      continue;
    }
    nbits -= 16;
    const uint32_t unit = (bits >> nbits) & 0xFFFF;
    bits &= (1u << nbits) - 1;
    any = true;
    if (high != 0) {
      if (unit < 0xDC00 || unit > 0xDFFF) {
        return false;
      }
      append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
      high = 0;
    } else if (unit >= 0xD800 && unit <= 0xDBFF) {
      high = unit;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return false;
    } else if (unit >= 0x20 && unit <= 0x7E) {
      return false;  // printable ASCII must be written as itself
    } else {
      append_utf8(out, unit);
    }
  }
  // Leftover bits must be fewer than 6 and zero.
  return any && high == 0 && nbits < 6 && bits == 0;
}

void encode_units(const std::u16string& units, std::string& out) {
  out.push_back('&');
  uint32_t bits = 0;
  int nbits = 0;
  for (char16_t u : units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out.push_back(kB64[(bits >> nbits) & 0x3F]);
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) {
    out.push_back(kB64[(bits << (6 - nbits)) & 0x3F]);
  }
  out.push_back('-');
}

}  // namespace

std::optional<std::string> mutf7_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (static_cast<uint8_t>(c) < 0x20 || static_cast<uint8_t>(c) > 0x7E) {
      return std::nullopt;
    }
    if (c != '&') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t end = text.find('-', i + 1);
    if (end == std::string_view::npos) {
      return std::nullopt;
    }
    if (end == i + 1) {
      out.push_back('&');
    } else if (!decode_group(text.substr(i + 1, end - i - 1), out)) {
      return std::nullopt;
    }
    i = end + 1;
  }
  return out;
}

std::optional<std::string> mutf7_encode(std::string_view utf8) {
  std::string out;
  std::u16string pending;
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp;
    const size_t len = decode_utf8(utf8, i, cp);
    if (len == 0) {
      return std::nullopt;
    }
    i += len;
    if (cp >= 0x20 && cp <= 0x7E) {
      if (!pending.empty()) {
        encode_units(pending, out);
        pending.clear();
      }
      out.push_back(static_cast<char>(cp));
      if (cp == '&') {
        out.push_back('-');
      }
    } else if (cp >= 0x10000) {
      pending.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      pending.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      pending.push_back(static_cast<char16_t>(cp));
    }
  }
  if (!pending.empty()) {
    encode_units(pending, out);
  }
  return out;
}

std::string normalize_inbox(std::string_view name, char delimiter) {
  std::string out(name);
  if (name.size() < 5) {
    return out;
  }
  for (size_t k = 0; k < 5; ++k) {
    if ((name[k] & ~0x20) != "INBOX"[k]) {
      return out;
    }
  }
  if (name.size() == 5 || name[5] == delimiter) {
    out.replace(0, 5, "INBOX");
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp;
    const size_t len = decode_utf8(text, i, cp);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace rm::imap
