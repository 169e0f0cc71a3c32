// LineEcho: a diagnostic service that sends every line it receives back.
//
// It exercises the runtime the way a line protocol does (partial lines carried across
// receives, pipelined lines answered in order, an idle deadline, a goodbye on shutdown) and
// is what the runtime tests and benchmark drive. Lines end with LF; a line longer than
// `line_bytes_max` is refused with "ERR line too long" and the connection closed.
// Untrusted input: yes (any client of the port).
#pragma once

#include <cstdint>

#include "core/reactor/connection.h"
#include "core/reactor/listener.h"

namespace rm {

struct LineEchoOptions {
  uint32_t idle_ms = 60000;          // deadline between lines
  uint32_t line_bytes_max = 4096;
};

class LineEcho final : public ConnectionHandler {
 public:
  explicit LineEcho(const LineEchoOptions& options) : options_(options) {}
  static HandlerFactory factory(LineEchoOptions options);

  void on_open(Connection& conn) override;
  size_t on_data(Connection& conn, std::string_view input) override;
  void on_deadline(Connection& conn) override;
  void on_shutdown(Connection& conn) override;

 private:
  LineEchoOptions options_;
};

}  // namespace rm
