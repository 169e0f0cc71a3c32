// Cidr: an IPv4 or IPv6 network ("127.0.0.0/8", "::1/128") and whether an address is in it.
// Untrusted input: the operator's config (parse) and peer address texts made by the reactor.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rm {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
};

// "192.0.2.1", "::1"; also the reactor's peer form "192.0.2.1:25" / "[::1]:25".
std::optional<IpAddress> parse_ip(std::string_view text);
std::optional<IpAddress> parse_peer_ip(std::string_view peer);
// An RFC 5321 address literal: "[192.0.2.1]", "[IPv6:2001:db8::1]".
std::optional<IpAddress> parse_address_literal(std::string_view literal);
// The RFC 5321 address literal for an address.
std::string address_literal(const IpAddress& address);

class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;

 private:
  IpAddress network_;
  unsigned prefix_bits_ = 0;
};

bool any_contains(const std::vector<Cidr>& networks, const IpAddress& address);

}  // namespace rm
