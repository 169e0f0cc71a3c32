// The shape of a DNS name (RFC 1035 §2.3.4): labels of 1..63 bytes, 253 bytes in all, no
// empty label, no trailing dot — with the bytes a label may hold chosen by the caller.
//
//   dns_name_shape_ok("mail.example.org", is_host_name_byte)   // a host name, lower case
//   dns_name_shape_ok("a b.example.org", is_query_name_byte)   // what a query can carry
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace rm {

inline constexpr size_t kDnsNameBytesMax = 253;
inline constexpr size_t kDnsLabelBytesMax = 63;

// Letters (lower case), digits, '-' and '_' (service labels such as _dmarc).
constexpr bool is_host_name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Printable ASCII and space, but not a backslash (c-ares' escape): SPF macros build names
// with '+', '=', ' ' and the like, and a query may carry them.
constexpr bool is_query_name_byte(char c) { return c >= 0x20 && c <= 0x7e && c != '\\'; }

template <typename ByteOk>
constexpr bool dns_name_shape_ok(std::string_view name, ByteOk byte_ok) {
  if (name.empty() || name.size() > kDnsNameBytesMax) {
    return false;
  }
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
    } else if (!byte_ok(c) || ++label > kDnsLabelBytesMax) {
      return false;
    }
  }
  return label > 0;
}

}  // namespace rm
