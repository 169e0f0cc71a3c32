#include "store/account/password.h"

#include <argon2.h>
#include <sys/random.h>

#include <cerrno>

namespace rm {
namespace {

// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kPasses = 2;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (password.empty() || password.size() > kPasswordBytesMax) {
    return Status::InvalidArgument("a password must have 1 to 1024 bytes");
  }
  unsigned char salt[kSaltBytes];
  if (getrandom(salt, sizeof salt, 0) != static_cast<ssize_t>(sizeof salt)) {
    return Status::FromErrno("getrandom", errno);
  }
  const size_t encoded_len =
      argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(encoded_len, '\0');
  const int rc = argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, password.data(), password.size(),
                                       salt, sizeof salt, kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Status::Internal(std::string("argon2id: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(const std::string& encoded_hash, std::string_view password) {
  if (password.size() > kPasswordBytesMax) {
    return false;
  }
  return argon2id_verify(encoded_hash.c_str(), password.data(), password.size()) == ARGON2_OK;
}

const std::string& decoy_password_hash() {
  static const std::string hash = [] {
    Result<std::string> h = hash_password("decoy password that is never accepted");
    return h.ok() ? *h : std::string();
  }();
  return hash;
}

}  // namespace rm
