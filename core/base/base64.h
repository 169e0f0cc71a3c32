// Base64 (RFC 4648, standard alphabet, padded): SMTP AUTH, the control protocol, MIME.
// Untrusted input: decode() takes client bytes; it refuses anything that is not canonical
// base64 (wrong characters, bad padding) rather than guessing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rm {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rm
