// Envelope: what the queue stores about a message besides its body (the SMTP envelope, the
// session it came from, the body's shape), and its binary encoding.
//
// Format (version 2): a version byte, then the fields in declaration order; integers and
// lengths as LEB128 varints (received_unix_ms zigzag-encoded), small enums and flags as one
// byte, strings as a length followed by the bytes, body extents as a count followed by
// (segment, offset, length, crc) varints; `held` and `quarantine` share one byte (bit 0 held,
// bit 1 quarantine: the byte was the held flag before quarantine existed, so older envelopes
// decode unchanged). The decoder accepts exactly what the
// encoder produces (minimal varints, flags 0/1, enums in range, no trailing bytes), so a
// decoded envelope re-encodes to the same bytes.
// Untrusted input: decode_envelope reads bytes from disk, which may be corrupt; every length
// is bounds-checked and limited.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "store/body/body_extent.h"
#include "store/queue/queue_id.h"

namespace rm {

inline constexpr size_t kEnvelopeRecipientsMax = 100000;
inline constexpr size_t kEnvelopeStringBytesMax = 64 * 1024;
inline constexpr uint8_t kEnvelopeVersion = 2;

// Envelope::body_type
inline constexpr uint8_t kBody7Bit = 0;
inline constexpr uint8_t kBody8BitMime = 1;
inline constexpr uint8_t kBodyBinaryMime = 2;
// Envelope::ret (DSN RET=)
inline constexpr uint8_t kRetUnset = 0;
inline constexpr uint8_t kRetFull = 1;
inline constexpr uint8_t kRetHdrs = 2;

struct Recipient {
  enum class State : uint8_t { kPending, kDelivered, kFailed, kDeferred };

  std::string address;
  uint8_t notify = 0;  // DSN NOTIFY= bits, as the SMTP layer defines them
  std::string orcpt;   // DSN ORCPT=, "" when absent
  State state = State::kPending;
  // The last attempt's outcome as the remote server or local agent said it, e.g.
  // "550 5.1.1 <bob@example.net>: user unknown (mx.example.net)"; "" before any attempt.
  std::string last_reply;

  friend bool operator==(const Recipient&, const Recipient&) = default;
};

struct Envelope {
  QueueId id;
  std::string sender;  // empty = the null sender <>
  std::vector<Recipient> recipients;
  std::string client_address;
  std::string helo;
  std::string auth_user;
  std::string listener;
  int64_t received_unix_ms = 0;
  uint64_t body_bytes = 0;
  std::vector<BodyExtent> body_extents;  // where the body is (BodyStore), in order
  uint8_t body_type = kBody7Bit;         // 0 7bit, 1 8bitmime, 2 binarymime
  bool smtputf8 = false;
  uint8_t ret = kRetUnset;  // 0 unset, 1 full, 2 hdrs
  std::string envid;
  bool held = false;
  // Inbound checks (DMARC p=quarantine) sent it to the recipients' quarantine mailbox (Junk)
  // rather than their INBOX.
  bool quarantine = false;
  // Delivery: attempts made so far, and when the next one is due (0: at once).
  uint32_t attempts = 0;
  int64_t next_attempt_unix_ms = 0;

  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// OK when `envelope` is within the limits decode_envelope enforces (recipient count, string
// sizes, enum ranges); InvalidArgument naming the first breach otherwise.
Status validate_envelope(const Envelope& envelope);

// The binary form. `envelope` should pass validate_envelope, or decoding it will fail.
std::string encode_envelope(const Envelope& envelope);

// Parses the binary form; InvalidArgument("corrupt envelope: ...") for anything else.
Result<Envelope> decode_envelope(std::string_view bytes);

}  // namespace rm
