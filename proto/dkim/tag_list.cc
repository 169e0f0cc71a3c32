#include "proto/dkim/tag_list.h"

namespace rm {
namespace {

std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && dkim_is_fws(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && dkim_is_fws(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// tag-name = ALPHA *ALNUMPUNC, ALNUMPUNC = ALPHA / DIGIT / "_"
bool valid_tag_name(std::string_view name) {
  if (name.empty() || name.size() > kDkimTagNameBytesMax || !is_alpha(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

// tag-value: VALCHARs (%x21-3A / %x3C-7E; UTF-8 bytes are accepted too, RFC 8616) separated
// by folding whitespace. Control characters other than the whitespace are refused.
bool valid_tag_value(std::string_view value) {
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ';' || c == 0x7f || (c < 0x21 && !dkim_is_fws(ch))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::string_view* DkimTagList::find(std::string_view name) const {
  for (const DkimTag& tag : tags) {
    if (tag.name == name) {
      return &tag.value;
    }
  }
  return nullptr;
}

std::string dkim_strip_fws(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (!dkim_is_fws(c)) {
      out += c;
    }
  }
  return out;
}

Result<DkimTagList> parse_dkim_tag_list(std::string_view text) {
  if (text.size() > kDkimTagListBytesMax) {
    return Status::InvalidArgument("tag list too long");
  }
  DkimTagList list;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view spec = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (trim_fws(spec).empty()) {
      continue;  // a trailing ";" (allowed) or an empty spec (tolerated, as others do)
    }
    size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("tag without '=': " +
                                     std::string(trim_fws(spec).substr(0, 32)));
    }
    std::string_view name = trim_fws(spec.substr(0, eq));
    std::string_view value = trim_fws(spec.substr(eq + 1));
    if (!valid_tag_name(name)) {
      return Status::InvalidArgument("bad tag name: " +
                                     std::string(name.substr(0, kDkimTagNameBytesMax)));
    }
    if (!valid_tag_value(value)) {
      return Status::InvalidArgument("bad value for tag " + std::string(name));
    }
    if (list.find(name) != nullptr) {
      return Status::InvalidArgument("duplicate tag " + std::string(name));
    }
    if (list.tags.size() == kDkimTagsMax) {
      return Status::InvalidArgument("too many tags");
    }
    list.tags.push_back({name, value});
  }
  return list;
}

}  // namespace rm
