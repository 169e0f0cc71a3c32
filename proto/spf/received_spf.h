// The Received-SPF header field (RFC 7208 §9.1) for an SPF outcome: the value that follows
// "Received-SPF: ", e.g.
//   pass (mx.example.net: domain of a@example.org designates 192.0.2.1 as permitted sender)
//   client-ip=192.0.2.1; envelope-from="a@example.org"; helo=h.example.org;
//   receiver=mx.example.net; identity=mailfrom; mechanism="ip4:192.0.2.0/24"
// on one line. Values that are not dot-atoms are quoted; control characters are dropped, so
// a hostile HELO or sender cannot break the header.
// Thread-safety: a pure function over values.
#pragma once

#include <string>
#include <string_view>

#include "core/net/cidr.h"
#include "proto/spf/evaluator.h"

namespace rm::spf {

std::string received_spf(const Outcome& outcome, const IpAddress& ip, std::string_view mail_from,
                         std::string_view helo, std::string_view receiver);

}  // namespace rm::spf
