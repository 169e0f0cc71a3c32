// Fuzzes a whole POP3 server session: arbitrary client bytes, split at arbitrary points,
// with a fake driver that answers every action at once from a small maildrop (messages
// with dots, bare LFs and no final line end; one that is gone), sent in chunks. The session must
// never crash, must consume every byte it is given unless it waits for the driver, must keep less
// than a line of unconsumed input, and must ask only sensible things of the driver.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/assert.h"
#include "proto/pop3/session.h"

namespace {

const char* const kMessages[] = {
    "Subject: one\r\n\r\nbody\r\n",
    "Subject: dots\n\n.x\n..y\n.\nno end",
    "",
    "no header at all\r\n.\r\n",
};
constexpr uint32_t kMessageCount = sizeof(kMessages) / sizeof(kMessages[0]);

std::vector<rm::pop3::Pop3MessageInfo> listing() {
  std::vector<rm::pop3::Pop3MessageInfo> messages;
  for (uint32_t i = 0; i < kMessageCount; ++i) {
    messages.push_back({std::string(kMessages[i]).size(), "1-" + std::to_string(i + 1)});
  }
  return messages;
}

// Sends a message in chunks of `chunk_bytes`, as a driver reading a large one would.
void send_message(rm::pop3::Pop3Session& session, std::string_view message, size_t chunk_bytes) {
  while (message.size() > chunk_bytes) {
    session.on_message_chunk(message.substr(0, chunk_bytes), false);
    message.remove_prefix(chunk_bytes);
  }
  session.on_message_chunk(message, true);
}

void answer(rm::pop3::Pop3Session& session, const rm::pop3::Pop3Action& a, size_t chunk_bytes) {
  using rm::pop3::Pop3ActionKind;
  using rm::pop3::Pop3AuthResult;
  switch (a.kind) {
    case Pop3ActionKind::kAuthenticate:
      if (a.password == "secret") {
        session.on_auth_result(Pop3AuthResult::kOk, listing());
      } else if (a.password == "temp") {
        session.on_auth_result(Pop3AuthResult::kTemporaryFailure);
      } else if (a.password == "busy") {
        session.on_auth_result(Pop3AuthResult::kInUse);
      } else {
        session.on_auth_result(Pop3AuthResult::kFailed);
      }
      return;
    case Pop3ActionKind::kStartTls:
      session.on_tls_started();
      return;
    case Pop3ActionKind::kFetchMessage:
      RM_ASSERT(a.message_number >= 1 && a.message_number <= kMessageCount);
      RM_ASSERT(a.unique_id == "1-" + std::to_string(a.message_number));
      if (a.message_number == 3) {
        session.on_message_failed(rm::pop3::Pop3FetchError::kGone);
      } else {
        send_message(session, kMessages[a.message_number - 1], chunk_bytes);
      }
      return;
    case Pop3ActionKind::kUpdate:
      RM_ASSERT(!a.deleted.empty());
      for (size_t i = 0; i < a.deleted.size(); ++i) {
        RM_ASSERT(a.deleted[i] >= 1 && a.deleted[i] <= kMessageCount);
        RM_ASSERT(i == 0 || a.deleted[i - 1] < a.deleted[i]);
      }
      session.on_update_done(a.deleted.size() != 2);
      return;
    case Pop3ActionKind::kClose:
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  rm::pop3::Pop3Options options;
  options.tls_available = data[0] & 1;
  options.tls_active = data[0] & 2;
  options.plaintext_auth_allowed = data[0] & 4;
  options.line_bytes_max = 64;
  options.sasl_line_bytes_max = 128;
  options.messages_max = 3;
  const size_t step = 1 + (data[0] >> 3) % 32;
  rm::pop3::Pop3Session session(options);
  session.on_connect();
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string pending;
  for (size_t pos = 0; pos < input.size() || !pending.empty();) {
    if (pos < input.size()) {
      pending.append(input, pos, step);
      pos += step;
    }
    const size_t used = session.feed(pending);
    RM_ASSERT(used <= pending.size());
    pending.erase(0, used);
    // Never more than a line is left with the driver (a CR that ends a full window waits
    // for its LF to tell a line at the limit from one past it).
    RM_ASSERT(session.waiting() || pending.size() <= options.sasl_line_bytes_max);
    bool acted = false;
    while (std::optional<rm::pop3::Pop3Action> action = session.next_action()) {
      acted = true;
      answer(session, *action, step);
    }
    RM_ASSERT(!session.waiting());
    session.take_output();
    if (session.closed()) {
      break;
    }
    if (!acted && pos >= input.size()) {
      break;  // the session waits for more input than there is
    }
  }
  return 0;
}
