#include "proto/mime/mime_tree.h"

#include <algorithm>
#include <optional>

#include "proto/mime/header.h"

namespace rm::mime {
namespace {

struct Delimiter {
  size_t line_start = 0;   // where "--boundary" starts
  size_t content_end = 0;  // end of the preceding part (before the line end)
  size_t after = 0;        // just after the delimiter line
  bool closing = false;    // "--boundary--"
};

class Parser {
 public:
  Parser(std::string_view message, const MimeLimits& limits, const MimeScanner& scan)
      : msg_(message), limits_(limits), scan_(scan) {
    depth_max_ = std::min(limits.depth_max, kMimeDepthHardMax);
  }

  MimeTree run() {
    add_part(kMimeNoPart, 0, msg_.size(), 0, false);
    return std::move(tree_);
  }

 private:
  MimePart& part(uint32_t i) { return tree_.parts[i]; }

  void add_part(uint32_t parent, size_t begin, size_t end, uint32_t depth, bool in_digest);
  void read_fields(uint32_t idx, std::string_view header, bool in_digest);
  void read_children(uint32_t idx, size_t end);
  void parse_multipart(uint32_t idx, std::string_view boundary, size_t end);
  std::optional<Delimiter> next_delimiter(size_t from, size_t limit, size_t part_start,
                                          std::string_view boundary) const;
  bool room_for_child(uint32_t idx) const {
    return tree_.parts[idx].depth < depth_max_ && tree_.parts.size() < limits_.parts_max;
  }
  void make_opaque(uint32_t idx);
  void make_text_plain(uint32_t idx);

  std::string_view msg_;
  const MimeLimits& limits_;
  const MimeScanner& scan_;
  uint32_t depth_max_;
  MimeTree tree_;
};

void add_default_charset(MimePart& p) {
  if (mime_iequals(p.type, "text") && find_param(p.params, "charset") == nullptr) {
    p.params.insert(p.params.begin(), MimeParam{"charset", "us-ascii"});
  }
}

void Parser::add_part(uint32_t parent, size_t begin, size_t end, uint32_t depth, bool in_digest) {
  const auto idx = static_cast<uint32_t>(tree_.parts.size());
  tree_.parts.emplace_back();
  if (parent != kMimeNoPart) {
    part(parent).children.push_back(idx);
  }
  const std::string_view region = msg_.substr(begin, end - begin);
  const size_t header_size = header_block_size(region, limits_.header_bytes_max, scan_);
  MimePart& p = part(idx);
  p.parent = parent;
  p.depth = depth;
  p.header_offset = begin;
  p.header_size = header_size;
  p.body_offset = begin + header_size;
  p.body_size = end - p.body_offset;
  const std::string_view body = region.substr(header_size);
  p.body_lines =
      scan_.count_lf(body.data(), body.size()) + ((!body.empty() && body.back() != '\n') ? 1 : 0);
  read_fields(idx, region.substr(0, header_size), in_digest);
  read_children(idx, end);
}

void Parser::read_fields(uint32_t idx, std::string_view header, bool in_digest) {
  MimePart& p = part(idx);
  bool have_type = false;
  HeaderFieldReader reader(header);
  HeaderField f;
  for (uint32_t n = 0; n < limits_.header_fields_max && reader.next(f); ++n) {
    if (f.name.size() < 8 || !mime_iequals(f.name.substr(0, 8), "content-")) {
      continue;
    }
    const std::string_view name = f.name.substr(8);
    if (mime_iequals(name, "type") && !have_type) {
      ContentType ct;
      if (parse_content_type(f.raw_value, limits_.params_max, ct)) {
        have_type = true;
        p.type = std::move(ct.type);
        p.subtype = std::move(ct.subtype);
        p.params = std::move(ct.params);
      }
    } else if (mime_iequals(name, "transfer-encoding")) {
      std::string enc = parse_transfer_encoding(f.raw_value);
      if (!enc.empty()) {
        p.encoding = std::move(enc);
      }
    } else if (mime_iequals(name, "id")) {
      p.id = unfold_header_value(f.raw_value);
    } else if (mime_iequals(name, "description")) {
      p.description = unfold_header_value(f.raw_value);
    } else if (mime_iequals(name, "md5")) {
      p.md5 = unfold_header_value(f.raw_value);
    } else if (mime_iequals(name, "location")) {
      p.location = unfold_header_value(f.raw_value);
    } else if (mime_iequals(name, "language")) {
      p.languages = parse_content_language(f.raw_value, limits_.params_max);
    } else if (mime_iequals(name, "disposition")) {
      if (auto d = parse_content_disposition(f.raw_value, limits_.params_max)) {
        p.disposition = std::move(d->type);
        p.disposition_params = std::move(d->params);
      }
    }
  }
  if (!have_type && in_digest) {
    p.type = "message";
    p.subtype = "rfc822";
  }
  add_default_charset(p);
}

// "--boundary", optionally "--", then only blanks to the line end (RFC 2046 §5.1.1): a
// longer boundary that merely starts with this one does not match.
bool is_delimiter_line(std::string_view line, std::string_view boundary) {
  if (line.size() < 2 + boundary.size() || line[0] != '-' || line[1] != '-' ||
      line.substr(2, boundary.size()) != boundary) {
    return false;
  }
  std::string_view rest = line.substr(2 + boundary.size());
  if (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-') {
    rest.remove_prefix(2);
  }
  for (char c : rest) {
    if (c == '\n') {
      return true;
    }
    if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return true;
}

bool is_identity_encoding(std::string_view enc) {
  return mime_iequals(enc, "7bit") || mime_iequals(enc, "8bit") || mime_iequals(enc, "binary");
}

void Parser::make_opaque(uint32_t idx) {
  MimePart& p = part(idx);
  p.type = "application";
  p.subtype = "octet-stream";
  p.truncated = true;
}

void Parser::make_text_plain(uint32_t idx) {
  MimePart& p = part(idx);
  p.kind = MimePartKind::kLeaf;
  p.type = "text";
  p.subtype = "plain";
  add_default_charset(p);
}

void Parser::read_children(uint32_t idx, size_t end) {
  const MimePart& p = part(idx);
  if (mime_iequals(p.type, "multipart")) {
    const std::string* boundary = find_param(p.params, "boundary");
    if (boundary == nullptr || boundary->empty() || boundary->size() > limits_.boundary_bytes_max) {
      make_text_plain(idx);
    } else if (!room_for_child(idx)) {
      make_opaque(idx);
    } else {
      const std::string b = *boundary;  // parts_ may grow while parsing
      parse_multipart(idx, b, end);
    }
    return;
  }
  const bool embedded = mime_iequals(p.type, "message") &&
                        (mime_iequals(p.subtype, "rfc822") || mime_iequals(p.subtype, "global"));
  if (!embedded) {
    return;
  }
  if (!is_identity_encoding(p.encoding)) {
    // Encoded, so not parsed: as a leaf it cannot be "message/rfc822", whose BODYSTRUCTURE
    // must carry an envelope.
    make_opaque(idx);
    part(idx).truncated = false;
    return;
  }
  if (!room_for_child(idx)) {
    make_opaque(idx);
    return;
  }
  part(idx).kind = MimePartKind::kMessage;
  add_part(idx, part(idx).body_offset, end, part(idx).depth + 1, false);
}

std::optional<Delimiter> Parser::next_delimiter(size_t from, size_t limit, size_t part_start,
                                                std::string_view boundary) const {
  size_t p = from;  // a line start
  bool check_here = true;
  while (p < limit) {
    if (!check_here) {
      const size_t k = scan_.find_dash_line(msg_.data() + p, limit - p);
      if (k >= limit - p) {
        return std::nullopt;
      }
      p += k;
    }
    check_here = false;
    const std::string_view line = msg_.substr(p, limit - p);
    if (is_delimiter_line(line, boundary)) {
      Delimiter d;
      d.line_start = p;
      d.content_end = p;
      if (d.content_end > part_start && msg_[d.content_end - 1] == '\n') {
        --d.content_end;
        if (d.content_end > part_start && msg_[d.content_end - 1] == '\r') {
          --d.content_end;
        }
      }
      const std::string_view rest = line.substr(2 + boundary.size());
      d.closing = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
      const size_t lf = scan_.find_lf(rest.data(), rest.size());
      d.after = p + 2 + boundary.size() + std::min(lf + 1, rest.size());
      return d;
    }
    p += 1;
  }
  return std::nullopt;
}

void Parser::parse_multipart(uint32_t idx, std::string_view boundary, size_t end) {
  part(idx).kind = MimePartKind::kMultipart;
  const bool digest = mime_iequals(part(idx).subtype, "digest");
  const auto body_start = static_cast<size_t>(part(idx).body_offset);
  std::optional<Delimiter> d = next_delimiter(body_start, end, body_start, boundary);
  while (d && !d->closing) {
    const size_t start = d->after;
    std::optional<Delimiter> next = next_delimiter(start, end, start, boundary);
    const size_t part_end = next ? next->content_end : end;
    if (!room_for_child(idx)) {
      part(idx).truncated = true;
      break;
    }
    add_part(idx, start, part_end, part(idx).depth + 1, digest);
    d = next;
  }
  if (part(idx).children.empty()) {
    make_text_plain(idx);
  }
}

}  // namespace

bool mime_iequals(std::string_view a, std::string_view b) {
  return header_name_equals(a, b);
}

Result<MimeTree> parse_mime(std::string_view message, const MimeLimits& limits,
                            const MimeScanner& scan) {
  if (message.size() > kMimeMessageBytesMax) {
    return Status::InvalidArgument("message too large to parse");
  }
  return Parser(message, limits, scan).run();
}

}  // namespace rm::mime
