// SmtpReply: a reply code, its enhanced status code (RFC 3463) and text — what a parser or a
// policy decision says back to the client. Rendering (multi-line, CRLF) is in render().
#pragma once

#include <string>
#include <string_view>

namespace rm::smtp {

struct Reply {
  int code = 0;              // 250, 354, 421, 452, 500, 501, 550, 552, 554, ...
  std::string_view status;   // enhanced status "5.5.2", empty for 220/221-style greetings
  std::string text;

  bool ok() const { return code >= 200 && code < 400; }
};

// "CODE STATUS TEXT\r\n" (status omitted when empty).
std::string render(const Reply& reply);

}  // namespace rm::smtp
