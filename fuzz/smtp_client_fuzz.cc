// Fuzzes the SMTP client session: arbitrary server bytes, split at arbitrary points, while
// the session sends a message to 3 recipients (twice on one connection when it gets that
// far), with TLS, AUTH and BDAT chosen by the first byte. The session must never crash,
// must give every recipient of a started message exactly one result and every message
// exactly one outcome — also when the server closes at any point — and must emit nothing
// after the connection is over.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/assert.h"
#include "proto/smtp/client/client_session.h"

namespace {

using rm::smtp::ClientEvent;
using rm::smtp::ClientEventType;
using rm::smtp::ClientSession;

constexpr size_t kRecipients = 3;
constexpr int kMessages = 2;
constexpr std::string_view kBody = "Subject: fuzz\r\n\r\n.leading dot\r\nbare\nlf\r\n.\r\nend";

struct Checker {
  ClientSession& session;
  rm::smtp::OutboundMessage message;
  int started = 0;
  int finished = 0;
  std::vector<bool> reported;
  size_t body_sent = 0;
  bool over = false;

  void pump() {
    for (std::vector<ClientEvent> batch = session.take_events(); !batch.empty();
         batch = session.take_events()) {
      for (const ClientEvent& e : batch) {
        check(e);
      }
    }
    (void)rm::smtp::timeout_ms(session.state());
    RM_ASSERT(session.output().size() < 64 * 1024);
    session.output().clear();
  }

  void check(const ClientEvent& e) {
    RM_ASSERT(!over);
    const bool in_message = started > finished;
    switch (e.type) {
      case ClientEventType::kRecipient:
        RM_ASSERT(in_message && e.recipient < kRecipients && !reported[e.recipient]);
        reported[e.recipient] = true;
        break;
      case ClientEventType::kMessage:
        RM_ASSERT(in_message);
        for (const bool r : reported) {
          RM_ASSERT(r);
        }
        ++finished;
        break;
      case ClientEventType::kFailed:
      case ClientEventType::kClosed:
        RM_ASSERT(!in_message);
        RM_ASSERT(session.done());
        over = true;
        break;
      case ClientEventType::kReady:
        on_ready();
        break;
      case ClientEventType::kStartTls:
        session.tls_started();
        break;
      case ClientEventType::kNeedBody:
        send_body();
        break;
    }
  }

  void on_ready() {
    if (!session.ready()) {
      RM_ASSERT(!session.send_message(message).ok());
      return;
    }
    RM_ASSERT(started == finished);
    if (started == kMessages) {
      session.quit();
      return;
    }
    reported.assign(kRecipients, false);
    body_sent = 0;
    RM_ASSERT(session.send_message(message).ok());
    ++started;
  }

  void send_body() {
    while (session.wants_body()) {
      const std::string_view rest = kBody.substr(body_sent);
      if (rest.size() <= 7) {
        session.body_end(rest);
        body_sent = kBody.size();
        return;
      }
      session.body_write(rest.substr(0, 7));
      body_sent += 7;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const uint8_t flags = data[0];
  const uint8_t more = data[1];
  rm::smtp::ClientConfig config;
  config.helo_name = "client.example.org";
  config.tls = static_cast<rm::smtp::TlsPolicy>(flags % 3);
  if (flags & 4) {
    config.credentials = rm::smtp::ClientCredentials{"alice", "secret"};
  }
  config.auth_plaintext_allowed = flags & 8;
  config.limits.line_bytes_max = 512;
  config.limits.lines_max = 64;
  ClientSession session(config);
  Checker checker{session, {}};
  checker.message.sender = (more & 1) ? "" : "alice@example.org";
  checker.message.recipients = {{"a@example.net", rm::smtp::kNotifyFailure, "rfc822;a@example.net"},
                                {"b@example.net"},
                                {"c@example.net", rm::smtp::kNotifyNever}};
  checker.message.use_bdat = flags & 16;
  checker.message.body = static_cast<rm::smtp::Body>((more >> 1) % 3);
  checker.message.smtputf8 = more & 8;
  if (more & 16) {
    checker.message.size_bytes = kBody.size();
  }
  checker.message.envid = "env id";
  const size_t step = 1 + (flags >> 5) * 9;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  for (size_t pos = 0; pos < input.size() && !checker.over; pos += step) {
    session.feed(input.substr(pos, step));
    checker.pump();
  }
  session.peer_closed();
  checker.pump();
  RM_ASSERT(session.done());
  RM_ASSERT(checker.over);
  RM_ASSERT(checker.started == checker.finished);
  return 0;
}
