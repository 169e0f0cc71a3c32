// The MIME content header fields (RFC 2045, 2183, 2231, 3282): Content-Type and
// Content-Disposition with their parameters, Content-Transfer-Encoding, Content-Language.
//
//   ContentType ct;
//   if (parse_content_type("text/plain; charset=\"utf-8\"", 64, ct)) ...  // "text" "plain"
//
// Parameters: RFC 2231 continuations (name*0, name*1*) are joined in section order, and
// an extended value (name*=utf-8'en'%E2%82%AC) is percent-decoded and, for the charsets of
// charset.h, converted to UTF-8 (other charsets keep the decoded bytes). The joined
// parameter takes the plain name and replaces a plain parameter of the same name.
// Names and values are otherwise kept as written (quotes removed, comments skipped).
// Untrusted input: yes. At most `params_max` parameters are read per field.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rm::mime {

struct MimeParam {
  std::string name;
  std::string value;
  bool operator==(const MimeParam&) const = default;
};

struct ContentType {
  std::string type;
  std::string subtype;
  std::vector<MimeParam> params;
};

// False when the value has no "type/subtype" (the caller applies the default type).
bool parse_content_type(std::string_view raw, size_t params_max, ContentType& out);

struct ContentDisposition {
  std::string type;  // "inline", "attachment", as written
  std::vector<MimeParam> params;
};
std::optional<ContentDisposition> parse_content_disposition(std::string_view raw,
                                                            size_t params_max);

// The encoding token as written ("base64"), or empty when there is none.
std::string parse_transfer_encoding(std::string_view raw);

// The language tags of a Content-Language list, at most `tags_max`.
std::vector<std::string> parse_content_language(std::string_view raw, size_t tags_max);

// The value of the first parameter named `name` (case-insensitive), or nullptr.
const std::string* find_param(const std::vector<MimeParam>& params, std::string_view name);

}  // namespace rm::mime
