#include "proto/dmarc/domain_name.h"

#include <cstdint>
#include <vector>

namespace rm::dmarc {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_label_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

std::string_view strip_dot(std::string_view d) {
  if (!d.empty() && d.back() == '.') {
    d.remove_suffix(1);
  }
  return d;
}

// Decodes UTF-8 into code points; false on malformed input (overlong forms, surrogates and
// values past U+10FFFF included).
bool decode_utf8(std::string_view s, std::vector<uint32_t>& out) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || s.size() - i <= static_cast<size_t>(extra)) {
      return false;
    }
    uint32_t cp = extra == 0 ? c : (c & (0x3F >> extra));
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

// RFC 3492 section 5 parameters.
constexpr uint32_t kBase = 36, kTmin = 1, kTmax = 26, kSkew = 38, kDamp = 700;
constexpr uint32_t kInitialBias = 72, kInitialN = 128;

uint32_t adapt(uint32_t delta, uint32_t points, bool first) {
  delta = first ? delta / kDamp : delta / 2;
  delta += delta / points;
  uint32_t k = 0;
  while (delta > ((kBase - kTmin) * kTmax) / 2) {
    delta /= kBase - kTmin;
    k += kBase;
  }
  return k + (kBase - kTmin + 1) * delta / (delta + kSkew);
}

char digit(uint32_t d) {
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

// Appends the generalized variable-length integer for q at the current bias.
void encode_integer(uint32_t q, uint32_t bias, std::string& out) {
  for (uint32_t k = kBase;; k += kBase) {
    uint32_t t = k <= bias ? kTmin : (k >= bias + kTmax ? kTmax : k - bias);
    if (q < t) {
      break;
    }
    out.push_back(digit(t + (q - t) % (kBase - t)));
    q = (q - t) / (kBase - t);
  }
  out.push_back(digit(q));
}

bool punycode(const std::vector<uint32_t>& input, std::string& out) {
  uint32_t basic = 0;
  for (uint32_t c : input) {
    if (c < 0x80) {
      out.push_back(lower(static_cast<char>(c)));
      ++basic;
    }
  }
  if (basic > 0) {
    out.push_back('-');
  }
  uint32_t n = kInitialN, delta = 0, bias = kInitialBias, handled = basic;
  const auto total = static_cast<uint32_t>(input.size());
  while (handled < total) {
    uint32_t m = UINT32_MAX;
    for (uint32_t c : input) {
      if (c >= n && c < m) {
        m = c;
      }
    }
    // The label is at most 63 code points, so these products stay far below 2^32.
    delta += (m - n) * (handled + 1);
    n = m;
    for (uint32_t c : input) {
      if (c < n) {
        ++delta;
      } else if (c == n) {
        encode_integer(delta, bias, out);
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
    if (out.size() > kLabelBytesMax) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> normalize_domain(std::string_view domain) {
  domain = strip_dot(domain);
  if (domain.empty() || domain.size() > kDomainBytesMax) {
    return Status::InvalidArgument("domain empty or longer than 253 octets");
  }
  std::string out;
  out.reserve(domain.size());
  size_t label = 0;
  for (char raw : domain) {
    char c = lower(raw);
    if (c == '.') {
      if (label == 0) {
        return Status::InvalidArgument("empty label in domain");
      }
      label = 0;
    } else if (!is_label_byte(static_cast<unsigned char>(c)) || ++label > kLabelBytesMax) {
      return Status::InvalidArgument("bad character or label too long in domain");
    }
    out.push_back(c);
  }
  if (label == 0) {
    return Status::InvalidArgument("empty label in domain");
  }
  return out;
}

bool domains_equal(std::string_view a, std::string_view b) {
  a = strip_dot(a);
  b = strip_dot(b);
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

Result<std::string> label_to_ascii(std::string_view utf8_label) {
  if (utf8_label.size() > 4 * kLabelBytesMax) {
    return Status::InvalidArgument("label too long");
  }
  std::vector<uint32_t> points;
  if (!decode_utf8(utf8_label, points)) {
    return Status::InvalidArgument("label is not valid UTF-8");
  }
  bool ascii = true;
  for (uint32_t c : points) {
    ascii = ascii && c < 0x80;
  }
  std::string out;
  if (ascii) {
    for (char c : utf8_label) {
      out.push_back(lower(c));
    }
  } else {
    out = "xn--";
    if (points.size() > kLabelBytesMax || !punycode(points, out)) {
      return Status::InvalidArgument("label too long for punycode");
    }
  }
  if (out.empty() || out.size() > kLabelBytesMax) {
    return Status::InvalidArgument("label empty or too long");
  }
  return out;
}

}  // namespace rm::dmarc
