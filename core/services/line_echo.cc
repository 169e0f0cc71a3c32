#include "core/services/line_echo.h"

namespace rm {

HandlerFactory LineEcho::factory(LineEchoOptions options) {
  return [options](Connection&) { return std::make_unique<LineEcho>(options); };
}

void LineEcho::on_open(Connection& conn) { conn.set_deadline_in(options_.idle_ms); }

size_t LineEcho::on_data(Connection& conn, std::string_view input) {
  size_t consumed = 0;
  for (;;) {
    const size_t eol = input.find('\n', consumed);
    // The line so far (all of it when its LF has not come yet) must fit the limit.
    const size_t line_end = eol == std::string_view::npos ? input.size() : eol;
    if (line_end - consumed > options_.line_bytes_max) {
      conn.write("ERR line too long\n");
      conn.close_after_flush();
      return input.size();
    }
    if (eol == std::string_view::npos) {
      break;
    }
    conn.write(input.substr(consumed, eol + 1 - consumed));
    consumed = eol + 1;
  }
  if (consumed > 0) {
    conn.set_deadline_in(options_.idle_ms);
  }
  return consumed;
}

void LineEcho::on_deadline(Connection& conn) {
  conn.write("ERR idle timeout\n");
  conn.close_after_flush();
}

void LineEcho::on_shutdown(Connection& conn) {
  conn.write("BYE shutting down\n");
  conn.close_after_flush();
}

}  // namespace rm
