// LoginCache: logins that passed recently, so that a client that logs in again and again
// (a mail client polling, a POP3 fetcher every minute) does not pay for Argon2id each time —
// what Dovecot's auth_cache does.
//
// An entry is an HMAC of the account and password under a random key made at start (the
// password itself is never kept), the stored hash it was checked against (a changed
// password invalidates it), and when it expires. Only successes are cached; failures always
// go through Argon2id and the throttle.
// Thread-safety: one per shard, used on that shard's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rm {

class LoginCache {
 public:
  explicit LoginCache(uint32_t ttl_ms, size_t entries_max = 100000);

  // True when `account` logged in with this password against `stored_hash` within the TTL.
  bool fresh(std::string_view account, std::string_view password, std::string_view stored_hash,
             int64_t now_ms) const;
  void remember(std::string_view account, std::string_view password,
                std::string_view stored_hash, int64_t now_ms);

 private:
  struct Entry {
    std::string mac;
    std::string stored_hash;
    int64_t expires_ms = 0;
  };
  std::string mac_of(std::string_view account, std::string_view password) const;

  const uint32_t ttl_ms_;
  const size_t entries_max_;
  std::string key_;
  std::unordered_map<std::string, Entry> entries_;  // by account
};

}  // namespace rm
