#include "tools/ringmaild/access/login_cache.h"

#include <random>

#include "core/crypto/hmac.h"

namespace rm {

LoginCache::LoginCache(uint32_t ttl_ms, size_t entries_max)
    : ttl_ms_(ttl_ms), entries_max_(entries_max) {
  std::random_device random;
  for (int i = 0; i < 32; ++i) key_.push_back(static_cast<char>(random() & 0xff));
}

std::string LoginCache::mac_of(std::string_view account, std::string_view password) const {
  Hmac mac(HmacHash::kSha256, key_);
  mac.update(account);
  mac.update(std::string_view("\0", 1));
  mac.update(password);
  return mac.finish();
}

bool LoginCache::fresh(std::string_view account, std::string_view password,
                       std::string_view stored_hash, int64_t now_ms) const {
  if (ttl_ms_ == 0) return false;
  auto it = entries_.find(std::string(account));
  return it != entries_.end() && it->second.expires_ms > now_ms &&
         it->second.stored_hash == stored_hash && it->second.mac == mac_of(account, password);
}

void LoginCache::remember(std::string_view account, std::string_view password,
                          std::string_view stored_hash, int64_t now_ms) {
  if (ttl_ms_ == 0) return;
  if (entries_.size() >= entries_max_) {
    std::erase_if(entries_, [now_ms](const auto& kv) { return kv.second.expires_ms <= now_ms; });
    if (entries_.size() >= entries_max_) entries_.clear();
  }
  entries_[std::string(account)] =
      Entry{mac_of(account, password), std::string(stored_hash), now_ms + ttl_ms_};
}

}  // namespace rm
