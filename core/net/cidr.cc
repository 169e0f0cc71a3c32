#include "core/net/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace rm {

std::optional<IpAddress> parse_ip(std::string_view text) {
  const std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> parse_peer_ip(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const size_t close = peer.find(']');
    return close == std::string_view::npos ? std::nullopt : parse_ip(peer.substr(1, close - 1));
  }
  return parse_ip(peer.substr(0, peer.rfind(':')));
}

std::optional<IpAddress> parse_address_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') {
    return std::nullopt;
  }
  std::string_view inner = literal.substr(1, literal.size() - 2);
  const bool v6 = inner.substr(0, 5) == "IPv6:";
  std::optional<IpAddress> ip = parse_ip(v6 ? inner.substr(5) : inner);
  return ip && ip->v6 == v6 ? ip : std::nullopt;
}

std::string address_literal(const IpAddress& address) {
  char text[64];
  inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
  return address.v6 ? "[IPv6:" + std::string(text) + "]" : "[" + std::string(text) + "]";
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<IpAddress> ip = parse_ip(text.substr(0, slash));
  if (!ip) {
    return std::nullopt;
  }
  Cidr cidr;
  cidr.network_ = *ip;
  const unsigned max_bits = ip->v6 ? 128 : 32;
  cidr.prefix_bits_ = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    const auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), cidr.prefix_bits_);
    if (ec != std::errc() || ptr != bits.data() + bits.size() || bits.empty() ||
        cidr.prefix_bits_ > max_bits) {
      return std::nullopt;
    }
  }
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.v6 != network_.v6) {
    return false;
  }
  unsigned bits = prefix_bits_;
  for (size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((address.bytes[i] & mask) != (network_.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

bool any_contains(const std::vector<Cidr>& networks, const IpAddress& address) {
  for (const Cidr& net : networks) {
    if (net.contains(address)) {
      return true;
    }
  }
  return false;
}

}  // namespace rm
