#include "tools/ringmaild/imap/fetch_response.h"

#include <algorithm>
#include <charconv>

#include "proto/imap/date_time.h"
#include "proto/imap/response.h"
#include "proto/mime/imap_format.h"
#include "proto/mime/section.h"
#include "proto/mime/tree_codec.h"

namespace rm {
namespace {

constexpr struct {
  uint8_t bit;
  const char* name;
} kSystemFlags[] = {
    {kFlagSeen, "\\Seen"},       {kFlagAnswered, "\\Answered"}, {kFlagFlagged, "\\Flagged"},
    {kFlagDeleted, "\\Deleted"}, {kFlagDraft, "\\Draft"},
};

void append_number(std::string& out, uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

void append_literal(std::string& out, std::string_view bytes, bool binary) {
  out += binary ? "~{" : "{";
  append_number(out, bytes.size());
  out += "}\r\n";
  out.append(bytes);
}

std::string_view apply_partial(std::string_view bytes,
                               const std::optional<std::pair<uint32_t, uint32_t>>& partial) {
  if (!partial) return bytes;
  if (partial->first >= bytes.size()) return {};
  return bytes.substr(partial->first, partial->second);
}

void append_section_name(std::string& out, const imap::Section& s) {
  out += '[';
  for (size_t i = 0; i < s.part.size(); ++i) {
    if (i) out += '.';
    append_number(out, s.part[i]);
  }
  const char* text = nullptr;
  switch (s.text) {
    case imap::SectionText::kNone: break;
    case imap::SectionText::kHeader: text = "HEADER"; break;
    case imap::SectionText::kHeaderFields: text = "HEADER.FIELDS"; break;
    case imap::SectionText::kHeaderFieldsNot: text = "HEADER.FIELDS.NOT"; break;
    case imap::SectionText::kText: text = "TEXT"; break;
    case imap::SectionText::kMime: text = "MIME"; break;
  }
  if (text) {
    if (!s.part.empty()) out += '.';
    out += text;
  }
  if (!s.fields.empty()) {
    out += " (";
    for (size_t i = 0; i < s.fields.size(); ++i) {
      if (i) out += ' ';
      out += s.fields[i];
    }
    out += ')';
  }
  out += ']';
}

mime::MimeSection to_mime(const imap::Section& s) {
  mime::MimeSection m;
  m.part = s.part;
  m.fields = s.fields;
  switch (s.text) {
    case imap::SectionText::kNone: m.kind = mime::MimeSection::Kind::kAll; break;
    case imap::SectionText::kHeader: m.kind = mime::MimeSection::Kind::kHeader; break;
    case imap::SectionText::kHeaderFields: m.kind = mime::MimeSection::Kind::kHeaderFields; break;
    case imap::SectionText::kHeaderFieldsNot:
      m.kind = mime::MimeSection::Kind::kHeaderFieldsNot;
      break;
    case imap::SectionText::kText: m.kind = mime::MimeSection::Kind::kText; break;
    case imap::SectionText::kMime: m.kind = mime::MimeSection::Kind::kMime; break;
  }
  return m;
}

// The message's structure: the stored one, or parsed now when it is missing or unreadable.
mime::MimeTree structure_of(const StoredMessage& stored) {
  if (!stored.entry.mime.empty()) {
    Result<mime::MimeTree> tree = mime::decode_mime_tree(stored.entry.mime);
    if (tree.ok()) return std::move(tree).value();
  }
  Result<mime::MimeTree> tree = mime::parse_mime(stored.body);
  return tree.ok() ? std::move(tree).value() : mime::MimeTree{};
}

bool has_nul(std::string_view bytes) { return bytes.find('\0') != std::string_view::npos; }

Status append_binary(std::string& out, const imap::FetchItem& item, const mime::MimeTree& tree,
                     const StoredMessage& stored) {
  Result<uint32_t> index = mime::resolve_mime_part(tree, item.section.part);
  std::string decoded;
  if (index.ok()) {
    Result<std::string> body = mime::decode_part_body(tree, stored.body, *index);
    if (!body.ok()) return Status::InvalidArgument("UNKNOWN-CTE");
    decoded = std::move(*body);
  }
  if (item.attr == imap::FetchAttr::kBinarySize) {
    out += "BINARY.SIZE";
    append_section_name(out, item.section);
    out += ' ';
    append_number(out, decoded.size());
    return Status::Ok();
  }
  out += "BINARY";
  append_section_name(out, item.section);
  if (item.partial) {
    out += '<';
    append_number(out, item.partial->first);
    out += '>';
  }
  out += ' ';
  const std::string_view bytes = apply_partial(decoded, item.partial);
  append_literal(out, bytes, has_nul(bytes));
  return Status::Ok();
}

// BODY[] and BODY[]<partial>: the message's own bytes, no structure needed.
bool whole_message(const imap::Section& s) {
  return s.part.empty() && s.text == imap::SectionText::kNone;
}

// `tree` is only called for a section other than the whole message.
template <typename Tree>
void append_body_section(std::string& out, const imap::FetchItem& item, Tree&& tree,
                         const StoredMessage& stored) {
  std::string extracted;
  std::string_view bytes = stored.body;
  if (!whole_message(item.section)) {
    Result<std::string> section = mime::extract_section(tree(), stored.body, to_mime(item.section));
    if (section.ok()) extracted = std::move(*section);
    bytes = extracted;
  }
  out += "BODY";
  append_section_name(out, item.section);
  if (item.partial) {
    out += '<';
    append_number(out, item.partial->first);
    out += '>';
  }
  out += ' ';
  append_literal(out, apply_partial(bytes, item.partial), false);
}

}  // namespace

bool fetch_needs_message(const imap::FetchArgs& args) {
  using A = imap::FetchAttr;
  return args.has(A::kEnvelope) || args.has(A::kBodyStructure) || args.has(A::kBody) ||
         args.has(A::kBodySection) || args.has(A::kBinary) || args.has(A::kBinarySize) ||
         args.has(A::kRfc822) || args.has(A::kRfc822Header) || args.has(A::kRfc822Text);
}

bool fetch_needs_structure(const imap::FetchArgs& args) {
  using A = imap::FetchAttr;
  for (const imap::FetchItem& item : args.items) {
    switch (item.attr) {
      case A::kEnvelope:
      case A::kBodyStructure:
      case A::kBody:
      case A::kBinary:
      case A::kBinarySize:
      case A::kRfc822Header:
      case A::kRfc822Text:
        return true;
      case A::kBodySection:
        if (!whole_message(item.section)) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

std::string mime_structure_of(std::string_view message) {
  Result<mime::MimeTree> tree = mime::parse_mime(message);
  return tree.ok() ? mime::encode_mime_tree(*tree) : std::string();
}

void append_flags(std::string& out, const MessageMeta& meta, const MailboxView& view) {
  out += "FLAGS (";
  bool first = true;
  for (const auto& f : kSystemFlags) {
    if (meta.flags & f.bit) {
      if (!first) out += ' ';
      out += f.name;
      first = false;
    }
  }
  const std::vector<std::string>& names = view.keyword_names();
  for (size_t i = 0; meta.keywords != 0 && i < names.size(); ++i) {
    if (!(meta.keywords & (uint64_t{1} << i))) continue;
    if (!first) out += ' ';
    out += names[i];
    first = false;
  }
  out += ')';
}

Status append_fetch_response(std::string& out, uint32_t seq, const MessageMeta& meta,
                             const MailboxView& view, const StoredMessage* stored,
                             const imap::FetchArgs& args, const FetchOptions& options) {
  using A = imap::FetchAttr;
  out += "* ";
  append_number(out, seq);
  out += " FETCH (";
  bool first = true;
  auto next = [&] {
    if (!first) out += ' ';
    first = false;
  };
  std::optional<mime::MimeTree> tree;
  auto structure = [&]() -> const mime::MimeTree& {
    if (!tree) tree = structure_of(*stored);
    return *tree;
  };
  const bool gone = stored == nullptr && fetch_needs_message(args);
  for (const imap::FetchItem& item : args.items) {
    if (gone &&
        (item.attr != A::kUid && item.attr != A::kFlags && item.attr != A::kInternalDate &&
         item.attr != A::kRfc822Size && item.attr != A::kModSeq)) {
      continue;  // the message is gone from the store: report what the view knows
    }
    next();
    switch (item.attr) {
      case A::kUid:
        out += "UID ";
        append_number(out, meta.uid);
        break;
      case A::kFlags:
        append_flags(out, meta, view);
        break;
      case A::kInternalDate:
        out += "INTERNALDATE \"";
        out += imap::format_date_time(meta.internal_date_ms / 1000, options.zone_minutes);
        out += '"';
        break;
      case A::kRfc822Size:
        out += "RFC822.SIZE ";
        append_number(out, meta.size);
        break;
      case A::kModSeq:
        out += "MODSEQ (";
        append_number(out, meta.modseq);
        out += ')';
        break;
      case A::kEnvelope: {
        const mime::MimeTree& t = structure();
        const uint64_t header = t.parts.empty() ? 0 : t.parts[0].header_size;
        out += "ENVELOPE ";
        out += mime::imap_envelope(std::string_view(stored->body).substr(0, header));
        break;
      }
      case A::kBodyStructure:
        out += "BODYSTRUCTURE ";
        out += mime::imap_bodystructure(structure(), stored->body, true);
        break;
      case A::kBody:
        out += "BODY ";
        out += mime::imap_bodystructure(structure(), stored->body, false);
        break;
      case A::kBodySection:
        append_body_section(out, item, structure, *stored);
        break;
      case A::kBinary:
      case A::kBinarySize:
        RM_RETURN_IF_ERROR(append_binary(out, item, structure(), *stored));
        break;
      case A::kRfc822:
        out += "RFC822 ";
        append_literal(out, stored->body, false);
        break;
      case A::kRfc822Header: {
        const mime::MimeTree& t = structure();
        const uint64_t header = t.parts.empty() ? stored->body.size() : t.parts[0].header_size;
        out += "RFC822.HEADER ";
        append_literal(out, std::string_view(stored->body).substr(0, header), false);
        break;
      }
      case A::kRfc822Text: {
        const mime::MimeTree& t = structure();
        const uint64_t header = t.parts.empty() ? stored->body.size() : t.parts[0].header_size;
        out += "RFC822.TEXT ";
        append_literal(out, std::string_view(stored->body).substr(std::min<uint64_t>(header, stored->body.size())), false);
        break;
      }
    }
  }
  if (options.condstore && !args.has(A::kModSeq) && args.has(A::kFlags)) {
    next();
    out += "MODSEQ (";
    append_number(out, meta.modseq);
    out += ')';
  }
  out += ")\r\n";
  return Status::Ok();
}

}  // namespace rm
