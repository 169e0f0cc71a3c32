// FixedReply: answers every connection with one fixed text and closes.
//
// The ports of protocols this build does not serve yet answer with their protocol's own
// "service not available" reply (SMTP 421, IMAP BYE, POP3 -ERR), which clients understand
// as "come back later", instead of refusing the TCP connection.
// Untrusted input: none is read.
#pragma once

#include <string>

#include "core/reactor/connection.h"
#include "core/reactor/listener.h"

namespace rm {

class FixedReply final : public ConnectionHandler {
 public:
  explicit FixedReply(const std::string& reply) : reply_(reply) {}
  static HandlerFactory factory(std::string reply);

  void on_open(Connection& conn) override;
  size_t on_data(Connection& /*conn*/, std::string_view input) override { return input.size(); }

 private:
  const std::string& reply_;
};

}  // namespace rm
