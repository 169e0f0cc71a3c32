#include "proto/dkim/header_canon.h"

namespace rm {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim_wsp_right(std::string_view s) {
  while (!s.empty() && is_wsp(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// The line starting at `pos` without its line end, and where the next line starts.
std::string_view line_at(std::string_view text, size_t pos, size_t& next) {
  size_t lf = text.find('\n', pos);
  if (lf == std::string_view::npos) {
    next = text.size();
    return text.substr(pos);
  }
  next = lf + 1;
  size_t end = (lf > pos && text[lf - 1] == '\r') ? lf - 1 : lf;
  return text.substr(pos, end - pos);
}

void relaxed_header(std::string_view raw, std::string& out) {
  size_t colon = raw.find(':');
  for (char c : trim_wsp_right(raw.substr(0, colon))) {
    out += lower(c);
  }
  out += ':';
  bool pending_space = false;
  bool started = false;
  std::string_view value = raw.substr(colon + 1);
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\n' || (c == '\r' && i + 1 < value.size() && value[i + 1] == '\n')) {
      continue;  // unfold; a CR on its own is an ordinary byte
    }
    if (is_wsp(c)) {
      pending_space = started;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += c;
    started = true;
  }
  out += "\r\n";
}

}  // namespace

std::string_view DkimHeaderField::value() const {
  return raw.substr(raw.find(':') + 1);
}

bool dkim_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

DkimMessageParts split_dkim_message(std::string_view message) {
  size_t pos = 0;
  while (pos < message.size()) {
    size_t next = 0;
    std::string_view line = line_at(message, pos, next);
    if (line.empty()) {
      return {message.substr(0, pos), message.substr(next)};
    }
    pos = next;
  }
  return {message, {}};
}

Result<std::vector<DkimHeaderField>> split_dkim_header_fields(std::string_view header_block) {
  if (header_block.size() > kDkimHeaderBlockBytesMax) {
    return Status::InvalidArgument("header block too long");
  }
  std::vector<DkimHeaderField> fields;
  size_t pos = 0;
  while (pos < header_block.size()) {
    size_t next = 0;
    std::string_view line = line_at(header_block, pos, next);
    if (line.empty()) {
      break;
    }
    size_t start = pos;
    size_t end = pos + line.size();
    pos = next;
    while (pos < header_block.size() && is_wsp(header_block[pos])) {  // continuation lines
      std::string_view more = line_at(header_block, pos, next);
      end = pos + more.size();
      pos = next;
    }
    std::string_view raw = header_block.substr(start, end - start);
    size_t colon = raw.find(':');
    if (is_wsp(raw.front()) || colon == std::string_view::npos || colon == 0) {
      continue;
    }
    if (fields.size() == kDkimHeaderFieldsMax) {
      return Status::InvalidArgument("too many header fields");
    }
    fields.push_back({trim_wsp_right(raw.substr(0, colon)), raw});
  }
  return fields;
}

void dkim_canonicalize_header(DkimCanon canon, std::string_view raw_field, std::string& out) {
  if (canon == DkimCanon::kSimple) {
    out.append(raw_field);
    out += "\r\n";
  } else {
    relaxed_header(raw_field, out);
  }
}

std::vector<std::string> DkimHeaderSelection::default_headers() {
  return {"from",
          "sender",
          "reply-to",
          "subject",
          "date",
          "message-id",
          "to",
          "cc",
          "mime-version",
          "content-type",
          "content-transfer-encoding",
          "content-language",
          "in-reply-to",
          "references",
          "list-id",
          "list-help",
          "list-unsubscribe",
          "list-unsubscribe-post",
          "list-subscribe",
          "list-post",
          "list-owner",
          "list-archive",
          "resent-date",
          "resent-from",
          "resent-sender",
          "resent-to",
          "resent-cc",
          "resent-message-id"};
}

std::vector<std::string> dkim_headers_to_sign(const std::vector<DkimHeaderField>& fields,
                                              const DkimHeaderSelection& selection) {
  std::vector<std::string> names;
  for (const std::string& name : selection.headers) {
    size_t present = 0;
    for (const DkimHeaderField& field : fields) {
      present += dkim_name_equals(field.name, name) ? 1 : 0;
    }
    for (const std::string& over : selection.oversigned) {
      present += dkim_name_equals(over, name) ? 1 : 0;
    }
    std::string lowered;
    for (char c : name) {
      lowered += lower(c);
    }
    names.insert(names.end(), present, lowered);
  }
  return names;
}

std::vector<const DkimHeaderField*> dkim_select_headers(
    const std::vector<DkimHeaderField>& fields, const std::vector<std::string>& signed_names) {
  std::vector<bool> taken(fields.size(), false);
  std::vector<const DkimHeaderField*> selected;
  selected.reserve(signed_names.size());
  for (const std::string& name : signed_names) {
    const DkimHeaderField* found = nullptr;
    for (size_t i = fields.size(); i-- > 0;) {
      if (!taken[i] && dkim_name_equals(fields[i].name, name)) {
        taken[i] = true;
        found = &fields[i];
        break;
      }
    }
    selected.push_back(found);
  }
  return selected;
}

std::string dkim_remove_b_value(std::string_view raw_field) {
  size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) {
    return std::string(raw_field);
  }
  size_t pos = colon + 1;
  while (pos < raw_field.size()) {
    size_t semi = raw_field.find(';', pos);
    size_t end = semi == std::string_view::npos ? raw_field.size() : semi;
    std::string_view spec = raw_field.substr(pos, end - pos);
    size_t eq = spec.find('=');
    if (eq != std::string_view::npos) {
      std::string_view name = spec.substr(0, eq);
      while (!name.empty() &&
             (is_wsp(name.front()) || name.front() == '\r' || name.front() == '\n')) {
        name.remove_prefix(1);
      }
      while (!name.empty() && (is_wsp(name.back()) || name.back() == '\r' || name.back() == '\n')) {
        name.remove_suffix(1);
      }
      if (name == "b") {
        std::string out(raw_field.substr(0, pos + eq + 1));
        out.append(raw_field.substr(end));
        return out;
      }
    }
    pos = end + 1;
  }
  return std::string(raw_field);
}

void dkim_hash_headers(Sha256& hash, const std::vector<DkimHeaderField>& fields,
                       const std::vector<std::string>& signed_names, DkimCanon canon,
                       std::string_view signature_field) {
  std::string canonical;
  for (const DkimHeaderField* field : dkim_select_headers(fields, signed_names)) {
    if (field != nullptr) {
      canonical.clear();
      dkim_canonicalize_header(canon, field->raw, canonical);
      hash.update(canonical);
    }
  }
  canonical.clear();
  dkim_canonicalize_header(canon, signature_field, canonical);
  canonical.resize(canonical.size() - 2);  // no CRLF after the signature field
  hash.update(canonical);
}

}  // namespace rm
