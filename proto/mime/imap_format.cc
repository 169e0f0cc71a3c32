#include "proto/mime/imap_format.h"

#include <vector>

#include "core/base/assert.h"
#include "proto/mime/address_list.h"
#include "proto/mime/header.h"

namespace rm::mime {
namespace {

bool quotable(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || c == '\r' || c == '\n') {
      return false;
    }
  }
  return true;
}

void append_number(std::string& out, uint64_t n) {
  out += std::to_string(n);
}

void append_params(std::string& out, const std::vector<MimeParam>& params) {
  if (params.empty()) {
    out += "NIL";
    return;
  }
  out.push_back('(');
  for (size_t i = 0; i < params.size(); ++i) {
    if (i != 0) {
      out.push_back(' ');
    }
    append_imap_string(out, params[i].name);
    out.push_back(' ');
    append_imap_string(out, params[i].value);
  }
  out.push_back(')');
}

std::optional<std::string_view> nonempty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string_view>(s);
}

void append_address_list(std::string& out, std::optional<std::string_view> raw) {
  if (!raw) {
    out += "NIL";
    return;
  }
  const std::vector<ImapAddress> list =
      parse_address_list(unfold_header_value(*raw), kEnvelopeAddressesMax);
  if (list.empty()) {
    out += "NIL";
    return;
  }
  out.push_back('(');
  for (const ImapAddress& a : list) {
    out.push_back('(');
    append_imap_nstring(out, a.name);
    out.push_back(' ');
    append_imap_nstring(out, a.adl);
    out.push_back(' ');
    append_imap_nstring(out, a.mailbox);
    out.push_back(' ');
    append_imap_nstring(out, a.host);
    out.push_back(')');
  }
  out.push_back(')');
}

void append_unfolded(std::string& out, std::optional<std::string_view> raw) {
  if (!raw) {
    out += "NIL";
    return;
  }
  append_imap_string(out, unfold_header_value(*raw));
}

void append_extension(std::string& out, const MimePart& p) {
  out.push_back(' ');
  if (p.disposition.empty()) {
    out += "NIL";
  } else {
    out.push_back('(');
    append_imap_string(out, p.disposition);
    out.push_back(' ');
    append_params(out, p.disposition_params);
    out.push_back(')');
  }
  out.push_back(' ');
  if (p.languages.empty()) {
    out += "NIL";
  } else {
    out.push_back('(');
    for (size_t i = 0; i < p.languages.size(); ++i) {
      if (i != 0) {
        out.push_back(' ');
      }
      append_imap_string(out, p.languages[i]);
    }
    out.push_back(')');
  }
  out.push_back(' ');
  append_imap_nstring(out, nonempty(p.location));
}

void append_part(std::string& out, const MimeTree& tree, std::string_view message, uint32_t idx,
                 bool ext) {
  const MimePart& p = tree.parts[idx];
  out.push_back('(');
  if (p.kind == MimePartKind::kMultipart) {
    for (uint32_t child : p.children) {
      append_part(out, tree, message, child, ext);
    }
    out.push_back(' ');
    append_imap_string(out, p.subtype);
    if (ext) {
      out.push_back(' ');
      append_params(out, p.params);
      append_extension(out, p);
    }
    out.push_back(')');
    return;
  }
  append_imap_string(out, p.type);
  out.push_back(' ');
  append_imap_string(out, p.subtype);
  out.push_back(' ');
  append_params(out, p.params);
  out.push_back(' ');
  append_imap_nstring(out, nonempty(p.id));
  out.push_back(' ');
  append_imap_nstring(out, nonempty(p.description));
  out.push_back(' ');
  append_imap_string(out, p.encoding);
  out.push_back(' ');
  append_number(out, mime_slice(message, p.body_offset, p.body_size).size());
  if (p.kind == MimePartKind::kMessage) {
    RM_ASSERT(p.children.size() == 1);  // as parse_mime and decode_mime_tree make them
    const MimePart& inner = tree.parts[p.children[0]];
    out.push_back(' ');
    out += imap_envelope(mime_slice(message, inner.header_offset, inner.header_size));
    out.push_back(' ');
    append_part(out, tree, message, p.children[0], ext);
    out.push_back(' ');
    append_number(out, p.body_lines);
  } else if (mime_iequals(p.type, "text")) {
    out.push_back(' ');
    append_number(out, p.body_lines);
  }
  if (ext) {
    out.push_back(' ');
    append_imap_nstring(out, nonempty(p.md5));
    append_extension(out, p);
  }
  out.push_back(')');
}

}  // namespace

std::string_view mime_slice(std::string_view message, uint64_t offset, uint64_t size) {
  if (offset >= message.size()) {
    return {};
  }
  const auto off = static_cast<size_t>(offset);
  const size_t avail = message.size() - off;
  return message.substr(off, size < avail ? static_cast<size_t>(size) : avail);
}

void append_imap_string(std::string& out, std::string_view s) {
  size_t nuls = 0;
  for (char c : s) {
    nuls += c == '\0';
  }
  if (quotable(s)) {
    out.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      if (c != '\0') {
        out.push_back(c);
      }
    }
    out.push_back('"');
    return;
  }
  out.push_back('{');
  append_number(out, s.size() - nuls);
  out += "}\r\n";
  for (char c : s) {
    if (c != '\0') {
      out.push_back(c);
    }
  }
}

void append_imap_nstring(std::string& out, std::optional<std::string_view> s) {
  if (!s) {
    out += "NIL";
  } else {
    append_imap_string(out, *s);
  }
}

std::string imap_envelope(std::string_view header_block) {
  // The first occurrence of each field, in one pass over the header.
  enum Field { kDate, kSubject, kFrom, kSender, kReplyTo, kTo, kCc, kBcc, kInReplyTo, kMessageId };
  static constexpr std::string_view kNames[] = {"Date",        "Subject",   "From", "Sender",
                                                "Reply-To",    "To",        "Cc",   "Bcc",
                                                "In-Reply-To", "Message-ID"};
  std::optional<std::string_view> values[10];
  HeaderFieldReader reader(header_block);
  HeaderField f;
  while (reader.next(f)) {
    for (int i = 0; i < 10; ++i) {
      if (!values[i] && header_name_equals(f.name, kNames[i])) {
        values[i] = f.raw_value;
      }
    }
  }
  std::string out = "(";
  append_unfolded(out, values[kDate]);
  out.push_back(' ');
  append_unfolded(out, values[kSubject]);
  out.push_back(' ');
  append_address_list(out, values[kFrom]);
  out.push_back(' ');
  append_address_list(out, values[kSender] ? values[kSender] : values[kFrom]);
  out.push_back(' ');
  append_address_list(out, values[kReplyTo] ? values[kReplyTo] : values[kFrom]);
  for (Field field : {kTo, kCc, kBcc}) {
    out.push_back(' ');
    append_address_list(out, values[field]);
  }
  out.push_back(' ');
  append_unfolded(out, values[kInReplyTo]);
  out.push_back(' ');
  append_unfolded(out, values[kMessageId]);
  out.push_back(')');
  return out;
}

std::string imap_bodystructure(const MimeTree& tree, std::string_view message, bool extensible) {
  if (tree.parts.empty()) {
    return extensible ? "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0 NIL "
                        "NIL NIL NIL)"
                      : "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)";
  }
  std::string out;
  append_part(out, tree, message, 0, extensible);
  return out;
}

}  // namespace rm::mime
