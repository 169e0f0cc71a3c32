#include "proto/smtp/reply.h"

namespace rm::smtp {

std::string render(const Reply& reply) {
  std::string out = std::to_string(reply.code);
  out.push_back(' ');
  if (!reply.status.empty()) {
    out.append(reply.status);
    out.push_back(' ');
  }
  out.append(reply.text);
  out.append("\r\n");
  return out;
}

}  // namespace rm::smtp
