// Fuzzes Authentication-Results handling. The bytes as a header block: the fields found for
// our authserv-id are whole fields of that name, and once they are erased none is found
// again. The bytes as values: the built field is one field (CRLF line ends, folds only with
// a tab, no line over 998 octets) that the finder recognises as ours.
// Input layout: byte 0 says where to cut the rest into a comment, a reason and a value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/assert.h"
#include "proto/mail_auth/authentication_results.h"
#include "proto/mail_auth/header_fields.h"

namespace {

using namespace rm::mail_auth;

constexpr std::string_view kId = "mx.example.org";

void check_finder(std::string_view block) {
  std::vector<ByteRange> found = find_authentication_results(block, kId);
  size_t end = 0;
  for (const ByteRange& r : found) {
    RM_ASSERT(r.offset >= end && r.size > 0 && r.offset + r.size <= block.size());
    RM_ASSERT(header_name_is(block.substr(r.offset, 22), "Authentication-Results"));
    end = r.offset + r.size;
  }
  std::string erased = erase_ranges(block, found);
  RM_ASSERT(find_authentication_results(erased, kId).empty());
}

void check_builder(std::string_view text, size_t cut) {
  size_t a = cut % (text.size() + 1);
  size_t b = a + (text.size() - a) / 2;
  MethodResult m{
      "dkim",
      "pass",
      std::string(text.substr(0, a)),
      std::string(text.substr(a, b - a)),
      {{"header", "d", std::string(text.substr(b))}, {"smtp", "mailfrom", std::string(text)}}};
  std::vector<MethodResult> results{m, m};
  std::string field = build_authentication_results(kId, results);
  size_t line_start = 0;
  while (line_start < field.size()) {
    size_t crlf = field.find("\r\n", line_start);
    RM_ASSERT(crlf != std::string::npos && crlf - line_start <= 998);
    std::string_view line(field.data() + line_start, crlf - line_start);
    RM_ASSERT(line.find('\r') == std::string_view::npos &&
              line.find('\n') == std::string_view::npos);
    RM_ASSERT(line_start == 0 || line.starts_with("\t"));
    line_start = crlf + 2;
  }
  HeaderFieldReader reader(field);
  std::optional<HeaderField> f = reader.next();
  RM_ASSERT(f && f->offset == 0 && f->size == field.size());
  RM_ASSERT(!reader.next());
  RM_ASSERT(find_authentication_results(field, kId).size() == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_finder(text);
  check_builder(text, data[0]);
  return 0;
}
