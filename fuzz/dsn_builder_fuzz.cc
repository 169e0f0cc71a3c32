// Fuzzes build_dsn with an arbitrary original message (untrusted: it came from an SMTP
// client) and an arbitrary remote reply, ORCPT and ENVID taken from the same bytes. The
// report must be well-formed whatever they hold: CRLF line endings only, no line longer
// than 998 octets, no top-level header line of only white space, the boundary nowhere but
// on its delimiter lines and in the Content-Type header, exactly three parts, and the third
// part's type as RET and the size limit say.
//
// Input layout: byte 0 selects RET (bits 0-1), the action (bits 2-4) and a small or large
// returned-size limit (bit 5); then up to the first NUL byte, the remote reply (also used as
// ORCPT and ENVID); the rest is the original message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "proto/dsn/dsn_builder.h"

namespace {

using rm::dsn::Action;

void check_well_formed(const rm::dsn::Dsn& dsn) {
  const std::string& m = dsn.message;
  const std::string delimiter = "--" + dsn.boundary;
  const std::string parameter = "boundary=\"" + dsn.boundary + "\"";
  size_t delimiters = 0;
  size_t parameters = 0;
  size_t start = 0;
  bool in_header = true;
  while (start < m.size()) {
    const size_t crlf = m.find("\r\n", start);
    RM_ASSERT_MSG(crlf != std::string::npos, "the last line lacks CRLF");
    const std::string_view line(m.data() + start, crlf - start);
    RM_ASSERT_MSG(line.size() <= 998, "a line longer than 998 octets");
    RM_ASSERT_MSG(line.find_first_of("\r\n") == std::string_view::npos, "a bare CR or LF");
    in_header = in_header && !line.empty();
    RM_ASSERT_MSG(!in_header || line.find_first_not_of(" \t") != std::string_view::npos,
                  "a header line of only white space");
    if (line.find(dsn.boundary) != std::string_view::npos) {
      if (line == delimiter || line == delimiter + "--") {
        ++delimiters;
      } else {
        RM_ASSERT_MSG(line.find(parameter) != std::string_view::npos, "boundary in the content");
        ++parameters;
      }
    }
    start = crlf + 2;
  }
  RM_ASSERT_MSG(delimiters == 4 && parameters == 1, "not three parts");
  RM_ASSERT(m.size() >= delimiter.size() + 4);
  RM_ASSERT(m.compare(m.size() - delimiter.size() - 4, std::string::npos, delimiter + "--\r\n") ==
            0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view reply = nul == std::string_view::npos ? "" : rest.substr(0, nul);
  const std::string_view original = nul == std::string_view::npos ? rest : rest.substr(nul + 1);

  rm::dsn::DsnRequest request;
  request.reporting_mta = "mx.example.org";
  request.queue_id = "0005F3C2A1B2C300";
  request.message_id = "<dsn.0005F3C2A1B2C300@mx.example.org>";
  request.original_sender = "sender@example.org";
  request.envid = std::string(reply.substr(0, 100));
  request.ret = static_cast<rm::smtp::Ret>((flags & 3) % 3);
  request.arrival_unix_s = 1700000000;
  request.date_unix_s = 1700003600;
  request.original = original;
  request.returned_bytes_max = (flags & 0x20) != 0 ? 64 : 1 << 20;
  rm::dsn::RecipientReport recipient;
  recipient.address = "rcpt@example.net";
  recipient.orcpt = "rfc822;" + std::string(reply.substr(0, 200));
  recipient.action = static_cast<Action>(((flags >> 2) & 7) % 5);
  recipient.status = std::string(reply.substr(0, 9));
  recipient.remote_mta = "mx.example.net";
  recipient.diagnostic = std::string(reply);
  recipient.last_attempt_unix_s = 1700003000;
  recipient.will_retry_until_unix_s = 1700400000;
  request.recipients.push_back(recipient);

  const rm::dsn::Dsn dsn = rm::dsn::build_dsn(request);
  check_well_formed(dsn);
  const bool full = recipient.action == Action::kFailed && request.ret != rm::smtp::Ret::kHdrs &&
                    original.size() <= request.returned_bytes_max;
  const size_t third = dsn.message.rfind("--" + dsn.boundary + "\r\n");
  const size_t type = dsn.message.find("\r\nContent-Type: ", third);
  RM_ASSERT(third != std::string::npos && type != std::string::npos);
  const bool rfc822 = dsn.message.compare(type, 32, "\r\nContent-Type: message/rfc822\r\n") == 0;
  RM_ASSERT_MSG(full == rfc822, "the returned part does not follow RET and the size limit");
  return 0;
}
