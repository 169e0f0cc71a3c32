#include "proto/mime/section.h"

#include "proto/mime/charset.h"
#include "proto/mime/header.h"
#include "proto/mime/imap_format.h"
#include "proto/mime/transfer_encoding.h"

namespace rm::mime {
namespace {

bool is_embedded_message(const MimePart& p) {
  return p.kind == MimePartKind::kMessage && p.children.size() == 1;
}

std::string header_fields(std::string_view header, const std::vector<std::string>& names,
                          bool keep_matching) {
  std::string out;
  HeaderFieldReader reader(header);
  HeaderField f;
  while (reader.next(f)) {
    bool match = false;
    for (const std::string& n : names) {
      if (header_name_equals(f.name, n)) {
        match = true;
        break;
      }
    }
    if (match == keep_matching) {
      out.append(f.raw);
      if (f.raw.empty() || f.raw.back() != '\n') {
        out += "\r\n";
      }
    }
  }
  out += "\r\n";
  return out;
}

// HEADER, HEADER.FIELDS[.NOT], TEXT of the message part `msg` (with a header).
std::string message_section(const MimePart& msg, std::string_view message, const MimeSection& s) {
  const std::string_view header = mime_slice(message, msg.header_offset, msg.header_size);
  switch (s.kind) {
    case MimeSection::Kind::kHeader:
      return std::string(header);
    case MimeSection::Kind::kHeaderFields:
      return header_fields(header, s.fields, true);
    case MimeSection::Kind::kHeaderFieldsNot:
      return header_fields(header, s.fields, false);
    case MimeSection::Kind::kText:
      return std::string(mime_slice(message, msg.body_offset, msg.body_size));
    default:
      return {};
  }
}

std::string part_text(const MimePart& p, std::string_view message) {
  return std::string(mime_slice(message, p.body_offset, p.body_size));
}

}  // namespace

Result<uint32_t> resolve_mime_part(const MimeTree& tree, std::span<const uint32_t> path) {
  if (tree.parts.empty()) {
    return Status::NotFound("empty tree");
  }
  uint32_t msg = 0;  // the message (or multipart) the next number indexes
  uint32_t part = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const MimePart& m = tree.parts[msg];
    const uint32_t n = path[i];
    if (m.kind == MimePartKind::kMultipart) {
      if (n == 0 || n > m.children.size()) {
        return Status::NotFound("no such part");
      }
      part = m.children[n - 1];
    } else if (n == 1) {
      part = msg;
    } else {
      return Status::NotFound("no such part");
    }
    const MimePart& p = tree.parts[part];
    if (is_embedded_message(p)) {
      msg = p.children[0];
    } else if (p.kind == MimePartKind::kMultipart) {
      msg = part;
    } else if (i + 1 < path.size()) {
      return Status::NotFound("no such part");
    }
  }
  return part;
}

Result<std::string> extract_section(const MimeTree& tree, std::string_view message,
                                    const MimeSection& section) {
  using Kind = MimeSection::Kind;
  if (section.part.empty()) {
    if (section.kind == Kind::kMime) {
      return Status::InvalidArgument("MIME needs a part number");
    }
    if (section.kind == Kind::kAll) {
      return std::string(message);
    }
    if (tree.parts.empty()) {
      return std::string();
    }
    return message_section(tree.parts[0], message, section);
  }
  Result<uint32_t> idx = resolve_mime_part(tree, section.part);
  if (!idx.ok()) {
    return std::string();
  }
  const MimePart& p = tree.parts[*idx];
  switch (section.kind) {
    case Kind::kAll:
      return part_text(p, message);
    case Kind::kMime:
      return std::string(mime_slice(message, p.header_offset, p.header_size));
    default:
      if (!is_embedded_message(p)) {
        return std::string();
      }
      return message_section(tree.parts[p.children[0]], message, section);
  }
}

Result<std::string> decode_part_body(const MimeTree& tree, std::string_view message,
                                     uint32_t index) {
  if (index >= tree.parts.size()) {
    return Status::InvalidArgument("no such part");
  }
  const MimePart& p = tree.parts[index];
  const std::string_view body = mime_slice(message, p.body_offset, p.body_size);
  const std::string& enc = p.encoding;
  if (mime_iequals(enc, "base64")) {
    return decode_base64_lenient(body);
  }
  if (mime_iequals(enc, "quoted-printable")) {
    return decode_quoted_printable(body);
  }
  if (mime_iequals(enc, "7bit") || mime_iequals(enc, "8bit") || mime_iequals(enc, "binary")) {
    return std::string(body);
  }
  return Status::Unsupported("unknown Content-Transfer-Encoding");
}

std::string body_text_utf8(const MimeTree& tree, std::string_view message) {
  std::string out;
  for (uint32_t i = 0; i < tree.parts.size(); ++i) {
    const MimePart& p = tree.parts[i];
    if (p.kind != MimePartKind::kLeaf || !mime_iequals(p.type, "text")) {
      continue;
    }
    Result<std::string> decoded = decode_part_body(tree, message, i);
    if (!decoded.ok()) {
      continue;
    }
    const std::string* charset = find_param(p.params, "charset");
    std::optional<std::string> utf8 =
        charset ? charset_to_utf8(*charset, *decoded) : std::optional<std::string>();
    if (!out.empty()) {
      out.push_back('\n');
    }
    out += utf8 ? *utf8 : *decoded;
  }
  return out;
}

}  // namespace rm::mime
