// Fuzzes a whole SMTP server session: arbitrary client bytes, split at arbitrary points,
// with commits answered as the server would. The session must never crash, must consume
// every byte it is given unless it waits for a commit or has closed, and must bound what it
// keeps of a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/base/assert.h"
#include "proto/smtp/session.h"

namespace {

class FuzzEnv : public rm::smtp::SessionEnv {
 public:
  rm::smtp::Reply check_recipient(const rm::smtp::RecipientRequest& r) override {
    if (r.mailbox.domain == "example.org") {
      return {250, "2.1.5", "Ok"};
    }
    return {554, "5.7.1", "Relay access denied"};
  }
  std::string next_queue_id() override { return "Q" + std::to_string(++ids_); }
  std::string rfc5322_now() override { return "Sun, 29 Nov 2026 17:00:00 +0000"; }

 private:
  int ids_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  rm::smtp::SessionConfig config;
  config.message_bytes_max = 2000;
  config.recipients_max = 5;
  config.bare_line_policy = (data[0] & 1) ? rm::smtp::BareLinePolicy::kNormalize
                                          : rm::smtp::BareLinePolicy::kReject;
  config.starttls_offered = data[0] & 2;
  config.auth_enabled = true;
  config.auth_plaintext_allowed = data[0] & 4;
  const size_t step = 1 + (data[0] >> 3) % 32;
  FuzzEnv env;
  rm::smtp::ServerSession session(config, env, "192.0.2.1");
  std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string pending;
  std::string out;
  for (size_t pos = 0; pos < input.size() || !pending.empty();) {
    if (pos < input.size()) {
      pending.append(input, pos, step);
      pos += step;
    }
    const size_t used = session.feed(pending, out);
    RM_ASSERT(used <= pending.size());
    pending.erase(0, used);
    RM_ASSERT(session.body().size() <= config.message_bytes_max + 4096);
    if (session.action() == rm::smtp::SessionAction::kCommit) {
      session.commit_finished(nullptr, out);
      continue;
    }
    if (session.action() == rm::smtp::SessionAction::kAuthenticate) {
      session.auth_finished(session.credentials().password == "secret", out);
      continue;
    }
    if (session.action() == rm::smtp::SessionAction::kStartTls) {
      session.tls_started();
      pending.clear();
      continue;
    }
    if (session.action() == rm::smtp::SessionAction::kClose) {
      break;
    }
    if (pos >= input.size()) {
      break;  // the session waits for more input than there is
    }
    out.clear();
  }
  return 0;
}
