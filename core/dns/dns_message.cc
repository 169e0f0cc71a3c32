#include "core/dns/dns_message.h"

#include <ares.h>

#include <algorithm>
#include <cstring>

namespace rm {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr uint16_t kClassIn = 1;
constexpr int kCnameHopsMax = 8;
// A response carries at most this many records we look at; the rest is ignored.
constexpr uint16_t kRecordsMax = 512;
// RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text. Compression pointers
// can make longer ones: they are refused.
constexpr size_t kNameTextMax = 253;

struct Record {
  std::string owner;
  uint16_t type = 0;
  uint32_t ttl = 0;
  size_t rdata = 0;  // offset in the message
  uint16_t rdlength = 0;
};

class Reader {
 public:
  Reader(const uint8_t* message, size_t length) : msg_(message), len_(length) {}

  bool u16(uint16_t& out) {
    if (len_ - pos_ < 2) {
      return false;
    }
    out = static_cast<uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& out) {
    uint16_t hi = 0;
    uint16_t lo = 0;
    if (!u16(hi) || !u16(lo)) {
      return false;
    }
    out = (uint32_t{hi} << 16) | lo;
    return true;
  }
  bool skip(size_t n) {
    if (len_ - pos_ < n) {
      return false;
    }
    pos_ += n;
    return true;
  }
  bool bytes(uint8_t* out, size_t n) {
    if (len_ - pos_ < n) {
      return false;
    }
    std::memcpy(out, msg_ + pos_, n);
    pos_ += n;
    return true;
  }
  // A (possibly compressed) name at the current position, normalized.
  bool name(std::string& out) {
    char* expanded = nullptr;
    long used = 0;
    if (pos_ >= len_ || ares_expand_name(msg_ + pos_, msg_, static_cast<int>(len_), &expanded,
                                         &used) != ARES_SUCCESS) {
      return false;
    }
    out = normalize_dns_name(expanded);
    ares_free_string(expanded);
    return out.size() <= kNameTextMax && skip(static_cast<size_t>(used));
  }
  size_t pos() const { return pos_; }
  void seek(size_t pos) { pos_ = std::min(pos, len_); }

 private:
  const uint8_t* msg_;
  size_t len_;
  size_t pos_ = 0;
};

bool read_record(Reader& in, Record& out, uint16_t& rclass) {
  if (!in.name(out.owner) || !in.u16(out.type) || !in.u16(rclass) || !in.u32(out.ttl) ||
      !in.u16(out.rdlength)) {
    return false;
  }
  out.ttl = std::min<uint32_t>(out.ttl, 0x7fffffff);  // RFC 2181 §8
  out.rdata = in.pos();
  return in.skip(out.rdlength);
}

// Reads `count` records of a section; those of another class are skipped.
bool read_section(Reader& in, uint16_t count, std::vector<Record>& out) {
  for (uint16_t i = 0; i < count; ++i) {
    Record record;
    uint16_t rclass = 0;
    if (!read_record(in, record, rclass)) {
      return false;
    }
    if (rclass == kClassIn && out.size() < kRecordsMax) {
      out.push_back(std::move(record));
    }
  }
  return true;
}

void lower_ttl(std::optional<uint32_t>& ttl, uint32_t value) {
  ttl = ttl ? std::min(*ttl, value) : value;
}

// Follows CNAMEs from `qname`; returns the name the records are for.
std::optional<std::string> follow_cnames(Reader& in, const std::vector<Record>& answers,
                                         std::string name, std::optional<uint32_t>& ttl) {
  for (int hop = 0; hop < kCnameHopsMax; ++hop) {
    const auto cname = std::find_if(answers.begin(), answers.end(), [&](const Record& r) {
      return r.type == static_cast<uint16_t>(DnsType::kCname) && r.owner == name;
    });
    if (cname == answers.end()) {
      return name;
    }
    in.seek(cname->rdata);
    if (!in.name(name)) {
      return std::nullopt;
    }
    lower_ttl(ttl, cname->ttl);
  }
  return std::nullopt;  // a loop, or a chain longer than any sane zone has
}

// TXT rdata: <length><bytes> character-strings filling the rdata exactly. RFC 1035 wants
// at least one; an empty rdata is read as a record without strings, as servers send it.
bool read_txt(Reader& in, const Record& r, DnsRecords& out) {
  std::vector<std::string> strings;
  size_t left = r.rdlength;
  while (left > 0) {
    uint8_t length = 0;
    if (!in.bytes(&length, 1) || length >= left || strings.size() >= kTxtStringsMax) {
      return false;
    }
    std::string text(length, '\0');
    if (!in.bytes(reinterpret_cast<uint8_t*>(text.data()), length)) {
      return false;
    }
    strings.push_back(std::move(text));
    left -= size_t{length} + 1;
  }
  out.txt.push_back(std::move(strings));
  return true;
}

bool read_rdata(Reader& in, const Record& r, DnsType type, DnsRecords& out) {
  in.seek(r.rdata);
  if (type == DnsType::kA || type == DnsType::kAaaa) {
    const size_t size = type == DnsType::kA ? 4 : 16;
    if (r.rdlength != size) {
      return false;
    }
    IpAddress ip;
    ip.v6 = type == DnsType::kAaaa;
    if (!in.bytes(ip.bytes.data(), size)) {
      return false;
    }
    out.addresses.push_back(ip);
    return true;
  }
  if (type == DnsType::kTxt) {
    return read_txt(in, r, out);
  }
  if (type == DnsType::kPtr) {
    std::string name;
    if (!in.name(name)) {
      return false;
    }
    out.names.push_back(std::move(name));
    return true;
  }
  MxRecord mx;
  if (!in.u16(mx.preference) || !in.name(mx.exchange)) {
    return false;
  }
  out.mx.push_back(std::move(mx));
  return true;
}

// The negative-answer TTL (RFC 2308 §5) from an SOA in the authority section.
std::optional<uint32_t> soa_negative_ttl(Reader& in, const std::vector<Record>& authority) {
  for (const Record& r : authority) {
    if (r.type != static_cast<uint16_t>(DnsType::kSoa)) {
      continue;
    }
    in.seek(r.rdata);
    std::string mname;
    std::string rname;
    uint32_t fields[5] = {};
    bool ok = in.name(mname) && in.name(rname);
    for (uint32_t& field : fields) {
      ok = ok && in.u32(field);
    }
    if (ok) {
      return std::min(r.ttl, fields[4]);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string normalize_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

Result<DnsRecords> parse_dns_response(const uint8_t* message, size_t length, std::string_view qname,
                                      DnsType type) {
  Reader in(message, length);
  uint16_t id = 0, flags = 0, qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  if (length < kHeaderBytes || !in.u16(id) || !in.u16(flags) || !in.u16(qdcount) ||
      !in.u16(ancount) || !in.u16(nscount) || !in.u16(arcount)) {
    return Status::InvalidArgument("DNS response shorter than its header");
  }
  DnsRecords out;
  out.rcode = static_cast<uint8_t>(flags & 0xf);
  std::string name;
  for (uint16_t i = 0; i < qdcount; ++i) {
    if (!in.name(name) || !in.skip(4)) {
      return Status::InvalidArgument("DNS response: bad question section");
    }
  }
  std::vector<Record> answers;
  std::vector<Record> authority;
  if (!read_section(in, ancount, answers) || !read_section(in, nscount, authority)) {
    return Status::InvalidArgument("DNS response: bad answer or authority section");
  }
  std::optional<uint32_t> ttl;
  std::optional<std::string> target = follow_cnames(in, answers, normalize_dns_name(qname), ttl);
  if (!target) {
    return Status::InvalidArgument("DNS response: CNAME chain too long or broken");
  }
  for (const Record& r : answers) {
    if (r.type == static_cast<uint16_t>(type) && r.owner == *target) {
      if (!read_rdata(in, r, type, out)) {
        return Status::InvalidArgument("DNS response: bad record data");
      }
      lower_ttl(ttl, r.ttl);
    }
  }
  out.ttl_s = out.empty() ? soa_negative_ttl(in, authority) : ttl;
  return out;
}

}  // namespace rm
