#include "core/crypto/hmac.h"

// wolfSSL's build options must come before any of its other headers.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <cstring>
#include <limits>

#include "core/base/assert.h"

namespace rm {

struct Hmac::State {
  ::Hmac ctx;
  int type = 0;
  std::string key;  // kept to restart after finish()
  bool initialized = false;
};

namespace {

int wolf_type(HmacHash hash) {
  return hash == HmacHash::kSha1 ? static_cast<int>(WC_SHA) : static_cast<int>(WC_SHA256);
}

}  // namespace

Hmac::Hmac(HmacHash hash, std::string_view key) : state_(std::make_unique<State>()) {
  state_->type = wolf_type(hash);
  state_->key.assign(key);
  start();
}

Hmac::~Hmac() {
  if (state_ && state_->initialized) {
    wc_HmacFree(&state_->ctx);
  }
}

Hmac::Hmac(Hmac&&) noexcept = default;
Hmac& Hmac::operator=(Hmac&&) noexcept = default;

void Hmac::start() {
  if (state_->initialized) {
    wc_HmacFree(&state_->ctx);
    state_->initialized = false;
  }
  int rc = wc_HmacInit(&state_->ctx, nullptr, INVALID_DEVID);
  RM_ASSERT_MSG(rc == 0, "wc_HmacInit failed");
  state_->initialized = true;
  RM_ASSERT(state_->key.size() <= std::numeric_limits<word32>::max());
  // An empty key is legal HMAC; wolfCrypt wants a valid pointer even then.
  static const byte kEmpty[1] = {0};
  const byte* key =
      state_->key.empty() ? kEmpty : reinterpret_cast<const byte*>(state_->key.data());
  rc = wc_HmacSetKey(&state_->ctx, state_->type, key, static_cast<word32>(state_->key.size()));
  RM_ASSERT_MSG(rc == 0, "wc_HmacSetKey failed");
}

void Hmac::update(std::string_view bytes) {
  RM_ASSERT(state_ != nullptr);
  // wolfCrypt takes 32-bit lengths: feed very large inputs in pieces.
  constexpr size_t kChunk = size_t{1} << 30;
  while (!bytes.empty()) {
    size_t n = bytes.size() < kChunk ? bytes.size() : kChunk;
    int rc = wc_HmacUpdate(&state_->ctx, reinterpret_cast<const byte*>(bytes.data()),
                           static_cast<word32>(n));
    RM_ASSERT_MSG(rc == 0, "wc_HmacUpdate failed");
    bytes.remove_prefix(n);
  }
}

std::string Hmac::finish() {
  RM_ASSERT(state_ != nullptr);
  byte out[WC_MAX_DIGEST_SIZE];
  int rc = wc_HmacFinal(&state_->ctx, out);
  RM_ASSERT_MSG(rc == 0, "wc_HmacFinal failed");
  size_t size = state_->type == static_cast<int>(WC_SHA) ? kSha1DigestBytes : kSha256DigestBytes;
  std::string digest(reinterpret_cast<const char*>(out), size);
  start();
  return digest;
}

std::string Hmac::compute(HmacHash hash, std::string_view key, std::string_view message) {
  Hmac mac(hash, key);
  mac.update(message);
  return mac.finish();
}

HmacSha1::Digest HmacSha1::finish() {
  std::string raw = hmac_.finish();
  Digest d;
  RM_ASSERT(raw.size() == d.size());
  std::memcpy(d.data(), raw.data(), d.size());
  return d;
}

HmacSha1::Digest HmacSha1::compute(std::string_view key, std::string_view message) {
  HmacSha1 mac(key);
  mac.update(message);
  return mac.finish();
}

}  // namespace rm
