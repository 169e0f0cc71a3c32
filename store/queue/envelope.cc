// Envelope encoding and the bounds-checked decoder.
// Thread-safety: pure functions.
#include "store/queue/envelope.h"

#include <limits>
#include <utility>

namespace rm {

namespace {

constexpr uint8_t kStateMax = static_cast<uint8_t>(Recipient::State::kDeferred);
// The smallest encoded recipient: empty address, notify, empty orcpt, state.
constexpr size_t kRecipientBytesMin = 4;
// The smallest encoded body extent: four one-byte varints.
constexpr size_t kExtentBytesMin = 4;

// ---- encoding ----

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_byte(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

void put_recipient(std::string& out, const Recipient& r) {
  put_string(out, r.address);
  put_byte(out, r.notify);
  put_string(out, r.orcpt);
  put_byte(out, static_cast<uint8_t>(r.state));
}

// ---- decoding ----

Status corrupt(std::string_view field, std::string_view what) {
  return Status::InvalidArgument("corrupt envelope: " + std::string(field) + ": " +
                                 std::string(what));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  size_t remaining() const { return in_.size() - pos_; }

  // A minimal LEB128 varint of at most 64 bits.
  Status varint(std::string_view field, uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) {
        return corrupt(field, "truncated");
      }
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        return corrupt(field, "varint overflows 64 bits");
      }
      out |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        return (b == 0 && shift > 0) ? corrupt(field, "varint not minimal") : Status::Ok();
      }
    }
    return corrupt(field, "varint too long");
  }

  Status byte(std::string_view field, uint8_t max, uint8_t& out) {
    if (pos_ >= in_.size()) {
      return corrupt(field, "truncated");
    }
    out = static_cast<uint8_t>(in_[pos_++]);
    return out <= max ? Status::Ok() : corrupt(field, "value out of range");
  }

  Status flag(std::string_view field, bool& out) {
    uint8_t b = 0;
    RM_RETURN_IF_ERROR(byte(field, 1, b));
    out = b != 0;
    return Status::Ok();
  }

  Status string(std::string_view field, std::string& out) {
    uint64_t size = 0;
    RM_RETURN_IF_ERROR(varint(field, size));
    if (size > kEnvelopeStringBytesMax) {
      return corrupt(field, "string too long");
    }
    if (size > remaining()) {
      return corrupt(field, "truncated");
    }
    out.assign(in_.substr(pos_, size));
    pos_ += size;
    return Status::Ok();
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Status read_recipient(Reader& r, Recipient& out) {
  RM_RETURN_IF_ERROR(r.string("recipient address", out.address));
  RM_RETURN_IF_ERROR(r.byte("recipient notify", 0xff, out.notify));
  RM_RETURN_IF_ERROR(r.string("recipient orcpt", out.orcpt));
  uint8_t state = 0;
  RM_RETURN_IF_ERROR(r.byte("recipient state", kStateMax, state));
  out.state = static_cast<Recipient::State>(state);
  return Status::Ok();
}

Status read_recipients(Reader& r, std::vector<Recipient>& out) {
  uint64_t count = 0;
  RM_RETURN_IF_ERROR(r.varint("recipient count", count));
  if (count > kEnvelopeRecipientsMax) {
    return corrupt("recipient count", "too many recipients");
  }
  if (count > r.remaining() / kRecipientBytesMin) {
    return corrupt("recipient count", "truncated");
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
    return corrupt("version", "unknown version " + std::to_string(version));
  }
  RM_RETURN_IF_ERROR(r.varint("id", e.id.value));
  RM_RETURN_IF_ERROR(r.string("sender", e.sender));
  RM_RETURN_IF_ERROR(read_recipients(r, e.recipients));
  RM_RETURN_IF_ERROR(r.string("client_address", e.client_address));
  RM_RETURN_IF_ERROR(r.string("helo", e.helo));
  RM_RETURN_IF_ERROR(r.string("auth_user", e.auth_user));
  return r.string("listener", e.listener);
}

Status read_u32(Reader& r, std::string_view field, uint32_t& out) {
  uint64_t v = 0;
  RM_RETURN_IF_ERROR(r.varint(field, v));
  if (v > std::numeric_limits<uint32_t>::max()) {
    return corrupt(field, "value out of range");
  }
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status read_extents(Reader& r, std::vector<BodyExtent>& out) {
  uint64_t count = 0;
  RM_RETURN_IF_ERROR(r.varint("body extent count", count));
  if (count > kEnvelopeExtentsMax) {
    return corrupt("body extent count", "too many extents");
  }
  if (count > r.remaining() / kExtentBytesMin) {
    return corrupt("body extent count", "truncated");
  }
  out.resize(count);
  for (BodyExtent& e : out) {
    RM_RETURN_IF_ERROR(r.varint("body extent segment", e.segment));
    RM_RETURN_IF_ERROR(r.varint("body extent offset", e.offset));
    RM_RETURN_IF_ERROR(read_u32(r, "body extent length", e.length));
    RM_RETURN_IF_ERROR(read_u32(r, "body extent crc", e.crc));
  }
  return Status::Ok();
}

Status read_body_info(Reader& r, Envelope& e) {
  uint64_t received = 0;
  RM_RETURN_IF_ERROR(r.varint("received_unix_ms", received));
  e.received_unix_ms = unzigzag(received);
  RM_RETURN_IF_ERROR(r.varint("body_bytes", e.body_bytes));
  RM_RETURN_IF_ERROR(read_extents(r, e.body_extents));
  uint64_t extent_bytes = 0;  // at most 2^20 extents of 2^32 bytes: no overflow
  for (const BodyExtent& x : e.body_extents) {
    extent_bytes += x.length;
  }
  if (extent_bytes != e.body_bytes) {
    return corrupt("body_bytes", "does not match the body extents");
  }
  RM_RETURN_IF_ERROR(r.byte("body_type", kBodyBinaryMime, e.body_type));
  return r.flag("smtputf8", e.smtputf8);
}

Status read_tail(Reader& r, Envelope& e) {
  RM_RETURN_IF_ERROR(r.byte("ret", kRetHdrs, e.ret));
  RM_RETURN_IF_ERROR(r.string("envid", e.envid));
  RM_RETURN_IF_ERROR(r.flag("held", e.held));
  return r.remaining() == 0 ? Status::Ok() : corrupt("end", "trailing bytes");
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
  if (e.body_extents.size() > kEnvelopeExtentsMax) {
    return Status::InvalidArgument("envelope has more than " + std::to_string(kEnvelopeExtentsMax) +
                                   " body extents");
  }
  uint64_t extent_bytes = 0;
  for (const BodyExtent& x : e.body_extents) {
    extent_bytes += x.length;
  }
  if (extent_bytes != e.body_bytes) {
    return Status::InvalidArgument("envelope body_bytes does not match its extents");
  }
  if (e.body_type > kBodyBinaryMime || e.ret > kRetHdrs) {
    return Status::InvalidArgument("envelope body_type or ret out of range");
  }
  return Status::Ok();
}

std::string encode_envelope(const Envelope& e) {
  std::string out;
  out.reserve(64 + e.sender.size() + e.recipients.size() * 48 + e.helo.size());
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
  put_varint(out, zigzag(e.received_unix_ms));
  put_varint(out, e.body_bytes);
  put_varint(out, e.body_extents.size());
  for (const BodyExtent& x : e.body_extents) {
    put_varint(out, x.segment);
    put_varint(out, x.offset);
    put_varint(out, x.length);
    put_varint(out, x.crc);
  }
  put_byte(out, e.body_type);
  put_byte(out, e.smtputf8 ? 1 : 0);
  put_byte(out, e.ret);
  put_string(out, e.envid);
  put_byte(out, e.held ? 1 : 0);
  return out;
}

Result<Envelope> decode_envelope(std::string_view bytes) {
  Reader r(bytes);
  Envelope e;
  RM_RETURN_IF_ERROR(read_head(r, e));
  RM_RETURN_IF_ERROR(read_body_info(r, e));
  RM_RETURN_IF_ERROR(read_tail(r, e));
  return e;
}

}  // namespace rm
