#include "proto/mime/tree_codec.h"

#include <optional>

namespace rm::mime {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Values most parts repeat, sent as one byte. A string is written as varint(length * 2)
// then its bytes, or varint(index * 2 + 1) for kCommon[index]. Append only: the index is
// part of the format.
constexpr std::string_view kCommon[] = {
    "text",        "plain",        "html",         "7BIT",
    "7bit",        "8bit",         "base64",       "quoted-printable",
    "charset",     "us-ascii",     "utf-8",        "iso-8859-1",
    "multipart",   "mixed",        "alternative",  "related",
    "application", "octet-stream", "boundary",     "name",
    "filename",    "attachment",   "inline",       "image",
    "message",     "rfc822",       "windows-1252", "format",
    "flowed",      "pdf"};
constexpr size_t kCommonCount = sizeof(kCommon) / sizeof(kCommon[0]);

void put_string(std::string& out, std::string_view s) {
  for (size_t i = 0; i < kCommonCount; ++i) {
    if (s == kCommon[i]) {
      put_varint(out, i * 2 + 1);
      return;
    }
  }
  put_varint(out, uint64_t{s.size()} * 2);
  out.append(s);
}

void put_params(std::string& out, const std::vector<MimeParam>& params) {
  put_varint(out, params.size());
  for (const MimeParam& p : params) {
    put_string(out, p.name);
    put_string(out, p.value);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) {
        break;
      }
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    ok_ = false;
    return 0;
  }

  uint8_t byte() {
    if (pos_ >= in_.size()) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
  }

  std::string string() {
    const uint64_t tag = varint();
    if (ok_ && (tag & 1) != 0) {
      if (tag / 2 >= kCommonCount) {
        ok_ = false;
        return {};
      }
      return std::string(kCommon[tag / 2]);
    }
    const uint64_t n = tag / 2;
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(pos_, static_cast<size_t>(n)));
    pos_ += static_cast<size_t>(n);
    return s;
  }

  // A count of items, each at least `item_bytes_min` long, that fits in what is left.
  uint64_t count(uint64_t item_bytes_min) {
    const uint64_t n = varint();
    if (!ok_ || n > (in_.size() - pos_) / item_bytes_min) {
      ok_ = false;
      return 0;
    }
    return n;
  }

  std::vector<MimeParam> params() {
    std::vector<MimeParam> out;
    const uint64_t n = count(2);
    for (uint64_t i = 0; i < n && ok_; ++i) {
      std::string name = string();
      std::string value = string();
      out.push_back(MimeParam{std::move(name), std::move(value)});
    }
    return out;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

bool read_part(Reader& r, MimeTree& tree, uint32_t index) {
  MimePart p;
  const uint64_t parent_plus_1 = r.varint();
  if (index == 0 ? parent_plus_1 != 0 : (parent_plus_1 == 0 || parent_plus_1 > index)) {
    return false;
  }
  p.parent = index == 0 ? kMimeNoPart : static_cast<uint32_t>(parent_plus_1 - 1);
  const uint8_t kind = r.byte();
  if (kind > static_cast<uint8_t>(MimePartKind::kMessage)) {
    return false;
  }
  p.kind = static_cast<MimePartKind>(kind);
  p.truncated = (r.byte() & 1) != 0;
  p.header_offset = r.varint();
  p.header_size = r.varint();
  p.body_size = r.varint();
  p.body_lines = r.varint();
  if (p.header_offset > kMimeMessageBytesMax || p.header_size > kMimeMessageBytesMax ||
      p.body_size > kMimeMessageBytesMax) {
    return false;
  }
  p.body_offset = p.header_offset + p.header_size;
  p.type = r.string();
  p.subtype = r.string();
  p.id = r.string();
  p.description = r.string();
  p.encoding = r.string();
  p.md5 = r.string();
  p.disposition = r.string();
  p.location = r.string();
  p.params = r.params();
  p.disposition_params = r.params();
  const uint64_t languages = r.count(1);
  for (uint64_t i = 0; i < languages && r.ok(); ++i) {
    p.languages.push_back(r.string());
  }
  if (!r.ok()) {
    return false;
  }
  if (p.parent != kMimeNoPart) {
    MimePart& parent = tree.parts[p.parent];
    p.depth = parent.depth + 1;
    if (p.depth > kMimeDepthHardMax || parent.kind == MimePartKind::kLeaf ||
        (parent.kind == MimePartKind::kMessage && !parent.children.empty())) {
      return false;
    }
    parent.children.push_back(index);
  }
  tree.parts.push_back(std::move(p));
  return true;
}

}  // namespace

std::string encode_mime_tree(const MimeTree& tree) {
  std::string out = "MT";
  out.push_back(static_cast<char>(kMimeTreeCodecVersion));
  put_varint(out, tree.parts.size());
  for (const MimePart& p : tree.parts) {
    put_varint(out, p.parent == kMimeNoPart ? 0 : uint64_t{p.parent} + 1);
    out.push_back(static_cast<char>(p.kind));
    out.push_back(static_cast<char>(p.truncated ? 1 : 0));
    put_varint(out, p.header_offset);
    put_varint(out, p.header_size);
    put_varint(out, p.body_size);
    put_varint(out, p.body_lines);
    for (const std::string* s : {&p.type, &p.subtype, &p.id, &p.description, &p.encoding, &p.md5,
                                 &p.disposition, &p.location}) {
      put_string(out, *s);
    }
    put_params(out, p.params);
    put_params(out, p.disposition_params);
    put_varint(out, p.languages.size());
    for (const std::string& l : p.languages) {
      put_string(out, l);
    }
  }
  return out;
}

Result<MimeTree> decode_mime_tree(std::string_view bytes) {
  if (bytes.size() < 3 || bytes[0] != 'M' || bytes[1] != 'T') {
    return Status::InvalidArgument("not an encoded MIME tree");
  }
  if (static_cast<uint8_t>(bytes[2]) != kMimeTreeCodecVersion) {
    return Status::Unsupported("unknown MIME tree version");
  }
  Reader r(bytes.substr(3));
  constexpr uint64_t kPartBytesMin = 17;  // parent, kind, flags, 4 varints, 8 strings, 3 lists
  const uint64_t count = r.count(kPartBytesMin);
  if (!r.ok() || count == 0 || count > kMimeTreeDecodePartsMax) {
    return Status::InvalidArgument("bad MIME tree part count");
  }
  MimeTree tree;
  tree.parts.reserve(static_cast<size_t>(count));
  for (uint32_t i = 0; i < count; ++i) {
    if (!read_part(r, tree, i)) {
      return Status::InvalidArgument("corrupt MIME tree");
    }
  }
  for (const MimePart& p : tree.parts) {
    const bool shape_ok = p.kind == MimePartKind::kLeaf      ? p.children.empty()
                          : p.kind == MimePartKind::kMessage ? p.children.size() == 1
                                                             : !p.children.empty();
    if (!shape_ok) {
      return Status::InvalidArgument("corrupt MIME tree shape");
    }
  }
  if (!r.at_end()) {
    return Status::InvalidArgument("trailing bytes after MIME tree");
  }
  return tree;
}

}  // namespace rm::mime
