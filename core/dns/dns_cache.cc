#include "core/dns/dns_cache.h"

namespace rm {

std::shared_ptr<const CachedLookup> DnsCache::find(const std::string& key, int64_t now_ms) {
  const auto it = map_.find(key);
  if (it == map_.end()) {
    return nullptr;
  }
  if (it->second.expires_ms <= now_ms) {
    erase(it);
    return nullptr;
  }
  return it->second.value;
}

void DnsCache::put(const std::string& key, std::shared_ptr<const CachedLookup> value,
                   int64_t expires_ms) {
  if (entries_max_ == 0) {
    return;
  }
  if (const auto it = map_.find(key); it != map_.end()) {
    erase(it);
  }
  while (map_.size() >= entries_max_) {
    erase(map_.find(order_.front()));
  }
  order_.push_back(key);
  map_.emplace(key, Entry{std::move(value), expires_ms, std::prev(order_.end())});
}

void DnsCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  order_.erase(it->second.age);
  map_.erase(it);
}

}  // namespace rm
