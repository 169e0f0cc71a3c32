// DKIM tag lists (RFC 6376 §3.2): "v=1; a=rsa-sha256; d=example.com; ...", the syntax of both
// the DKIM-Signature header field and the key records published in DNS.
//
//   Result<DkimTagList> tags = parse_dkim_tag_list("v=DKIM1; k=ed25519; p=...");
//   const std::string_view* p = tags->find("p");
//
// Values are views into the parsed text, with surrounding whitespace trimmed and inner folding
// whitespace kept (callers strip it where the tag's grammar allows it, e.g. base64).
// Untrusted input: yes — header fields of received messages and TXT records from DNS. Limits:
// kDkimTagListBytesMax, kDkimTagsMax, kDkimTagNameBytesMax. An error message is the reason
// for a DKIM permerror.
// Thread-safety: plain functions and values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace rm {

inline constexpr size_t kDkimTagListBytesMax = 64 * 1024;
inline constexpr size_t kDkimTagsMax = 64;
inline constexpr size_t kDkimTagNameBytesMax = 32;

struct DkimTag {
  std::string_view name;
  std::string_view value;
};

struct DkimTagList {
  std::vector<DkimTag> tags;  // in the order written; names are unique
  const std::string_view* find(std::string_view name) const;
};

// The text must stay alive while the result is used.
Result<DkimTagList> parse_dkim_tag_list(std::string_view text);

// True for the whitespace that may fold a tag list: SP, HTAB, CR, LF.
inline bool dkim_is_fws(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
// `text` without any folding whitespace (for base64 values and h= lists).
std::string dkim_strip_fws(std::string_view text);

}  // namespace rm
