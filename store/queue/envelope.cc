// Envelope encoding and the bounds-checked decoder.
// Thread-safety: pure functions.
#include "store/queue/envelope.h"

#include <utility>

#include "store/body/extent_codec.h"
#include "store/codec/binary_codec.h"

namespace rm {

namespace {

using codec::put_byte;
using codec::put_string;
using codec::put_varint;
using codec::Reader;

constexpr uint8_t kStateMax = static_cast<uint8_t>(Recipient::State::kDeferred);
// The bits of the byte that holds Envelope::held and Envelope::quarantine.
constexpr uint8_t kStateHeld = 1;
constexpr uint8_t kStateQuarantine = 2;
// The smallest encoded recipient: empty address, notify, empty orcpt, state, empty reply.
constexpr size_t kRecipientBytesMin = 5;
constexpr size_t kStringMax = kEnvelopeStringBytesMax;

void put_recipient(std::string& out, const Recipient& r) {
  put_string(out, r.address);
  put_byte(out, r.notify);
  put_string(out, r.orcpt);
  put_byte(out, static_cast<uint8_t>(r.state));
  put_string(out, r.last_reply);
}

Status read_recipient(Reader& r, Recipient& out) {
  RM_RETURN_IF_ERROR(r.string("recipient address", kStringMax, out.address));
  RM_RETURN_IF_ERROR(r.byte("recipient notify", 0xff, out.notify));
  RM_RETURN_IF_ERROR(r.string("recipient orcpt", kStringMax, out.orcpt));
  uint8_t state = 0;
  RM_RETURN_IF_ERROR(r.byte("recipient state", kStateMax, state));
  out.state = static_cast<Recipient::State>(state);
  return r.string("recipient last_reply", kStringMax, out.last_reply);
}

Status read_recipients(Reader& r, std::vector<Recipient>& out) {
  uint64_t count = 0;
  RM_RETURN_IF_ERROR(r.varint("recipient count", count));
  if (count > kEnvelopeRecipientsMax) {
    return r.corrupt("recipient count", "too many recipients");
  }
  if (count > r.remaining() / kRecipientBytesMin) {
    return r.corrupt("recipient count", "truncated");
  }
  out.resize(count);
  for (Recipient& recipient : out) {
    RM_RETURN_IF_ERROR(read_recipient(r, recipient));
  }
  return Status::Ok();
}

Status read_head(Reader& r, Envelope& e) {
  uint8_t version = 0;
  RM_RETURN_IF_ERROR(r.byte("version", 0xff, version));
  if (version != kEnvelopeVersion) {
    return r.corrupt("version", "unknown version " + std::to_string(version));
  }
  RM_RETURN_IF_ERROR(r.varint("id", e.id.value));
  RM_RETURN_IF_ERROR(r.string("sender", kStringMax, e.sender));
  RM_RETURN_IF_ERROR(read_recipients(r, e.recipients));
  RM_RETURN_IF_ERROR(r.string("client_address", kStringMax, e.client_address));
  RM_RETURN_IF_ERROR(r.string("helo", kStringMax, e.helo));
  RM_RETURN_IF_ERROR(r.string("auth_user", kStringMax, e.auth_user));
  return r.string("listener", kStringMax, e.listener);
}

Status read_body_info(Reader& r, Envelope& e) {
  uint64_t received = 0;
  RM_RETURN_IF_ERROR(r.varint("received_unix_ms", received));
  e.received_unix_ms = codec::unzigzag(received);
  RM_RETURN_IF_ERROR(r.varint("body_bytes", e.body_bytes));
  RM_RETURN_IF_ERROR(read_extents(r, e.body_extents));
  if (extent_bytes(e.body_extents) != e.body_bytes) {
    return r.corrupt("body_bytes", "does not match the body extents");
  }
  RM_RETURN_IF_ERROR(r.byte("body_type", kBodyBinaryMime, e.body_type));
  return r.flag("smtputf8", e.smtputf8);
}

Status read_tail(Reader& r, Envelope& e) {
  RM_RETURN_IF_ERROR(r.byte("ret", kRetHdrs, e.ret));
  RM_RETURN_IF_ERROR(r.string("envid", kStringMax, e.envid));
  uint8_t state = 0;
  RM_RETURN_IF_ERROR(r.byte("held", kStateHeld | kStateQuarantine, state));
  e.held = (state & kStateHeld) != 0;
  e.quarantine = (state & kStateQuarantine) != 0;
  RM_RETURN_IF_ERROR(r.u32("attempts", e.attempts));
  uint64_t next = 0;
  RM_RETURN_IF_ERROR(r.varint("next_attempt_unix_ms", next));
  e.next_attempt_unix_ms = codec::unzigzag(next);
  return r.end();
}

Status check_string(std::string_view field, std::string_view s) {
  if (s.size() > kEnvelopeStringBytesMax) {
    return Status::InvalidArgument("envelope " + std::string(field) + " is longer than " +
                                   std::to_string(kEnvelopeStringBytesMax) + " bytes");
  }
  return Status::Ok();
}

Status check_recipients(const std::vector<Recipient>& recipients) {
  if (recipients.size() > kEnvelopeRecipientsMax) {
    return Status::InvalidArgument("envelope has more than " +
                                   std::to_string(kEnvelopeRecipientsMax) + " recipients");
  }
  for (const Recipient& r : recipients) {
    RM_RETURN_IF_ERROR(check_string("recipient address", r.address));
    RM_RETURN_IF_ERROR(check_string("recipient orcpt", r.orcpt));
    RM_RETURN_IF_ERROR(check_string("recipient last_reply", r.last_reply));
    if (static_cast<uint8_t>(r.state) > kStateMax) {
      return Status::InvalidArgument("envelope recipient state out of range");
    }
  }
  return Status::Ok();
}

}  // namespace

Status validate_envelope(const Envelope& e) {
  RM_RETURN_IF_ERROR(check_string("sender", e.sender));
  RM_RETURN_IF_ERROR(check_recipients(e.recipients));
  RM_RETURN_IF_ERROR(check_string("client_address", e.client_address));
  RM_RETURN_IF_ERROR(check_string("helo", e.helo));
  RM_RETURN_IF_ERROR(check_string("auth_user", e.auth_user));
  RM_RETURN_IF_ERROR(check_string("listener", e.listener));
  RM_RETURN_IF_ERROR(check_string("envid", e.envid));
  if (e.body_extents.size() > kBodyExtentsMax) {
    return Status::InvalidArgument("envelope has more than " + std::to_string(kBodyExtentsMax) +
                                   " body extents");
  }
  if (extent_bytes(e.body_extents) != e.body_bytes) {
    return Status::InvalidArgument("envelope body_bytes does not match its extents");
  }
  if (e.body_type > kBodyBinaryMime || e.ret > kRetHdrs) {
    return Status::InvalidArgument("envelope body_type or ret out of range");
  }
  return Status::Ok();
}

std::string encode_envelope(const Envelope& e) {
  std::string out;
  out.reserve(64 + e.sender.size() + e.recipients.size() * 48 + e.helo.size() +
              e.body_extents.size() * 16);
  put_byte(out, kEnvelopeVersion);
  put_varint(out, e.id.value);
  put_string(out, e.sender);
  put_varint(out, e.recipients.size());
  for (const Recipient& r : e.recipients) {
    put_recipient(out, r);
  }
  put_string(out, e.client_address);
  put_string(out, e.helo);
  put_string(out, e.auth_user);
  put_string(out, e.listener);
  put_varint(out, codec::zigzag(e.received_unix_ms));
  put_varint(out, e.body_bytes);
  put_extents(out, e.body_extents);
  put_byte(out, e.body_type);
  put_byte(out, e.smtputf8 ? 1 : 0);
  put_byte(out, e.ret);
  put_string(out, e.envid);
  put_byte(out,
           static_cast<uint8_t>((e.held ? kStateHeld : 0) | (e.quarantine ? kStateQuarantine : 0)));
  put_varint(out, e.attempts);
  put_varint(out, codec::zigzag(e.next_attempt_unix_ms));
  return out;
}

Result<Envelope> decode_envelope(std::string_view bytes) {
  Reader r(bytes, "envelope");
  Envelope e;
  RM_RETURN_IF_ERROR(read_head(r, e));
  RM_RETURN_IF_ERROR(read_body_info(r, e));
  RM_RETURN_IF_ERROR(read_tail(r, e));
  return e;
}

}  // namespace rm
