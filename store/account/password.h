// Password hashing with Argon2id (libargon2), stored as the PHC string
// "$argon2id$v=19$m=19456,t=2,p=1$salt$hash" — never the password itself.
//
// Both calls are slow on purpose (tens of milliseconds of CPU): they run on a blocking lane,
// never on a reactor thread.
// Untrusted input: the password (any bytes; bounded by kPasswordBytesMax).
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

inline constexpr size_t kPasswordBytesMax = 1024;

Result<std::string> hash_password(std::string_view password);
// False for a wrong password or a malformed hash.
bool verify_password(const std::string& encoded_hash, std::string_view password);

// A well-formed hash of a password nobody knows: checking an unknown user against it costs
// the same time as a known one, so failed logins do not reveal which accounts exist.
const std::string& decoy_password_hash();

}  // namespace rm
