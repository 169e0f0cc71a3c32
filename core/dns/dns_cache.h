// DnsCache: one shard's answers to (name, type) lookups, each kept until its TTL runs out.
//
// Bounded: at `entries_max` entries, storing another evicts the oldest stored. Expired
// entries are dropped when looked up, or when eviction reaches them. Values are shared and
// immutable, so a lookup hands one out without copying its records.
// Thread-safety: none; owned by one shard's Resolver.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dns/dns_message.h"

namespace rm {

struct CachedLookup {
  enum class Kind : uint8_t {
    kRecords,   // addresses, mx, txt or names hold the records
    kNoData,    // the name exists, without records of this type
    kNxDomain,  // the name does not exist
  };
  Kind kind = Kind::kRecords;
  std::vector<IpAddress> addresses;
  std::vector<MxRecord> mx;
  std::vector<std::vector<std::string>> txt;
  std::vector<std::string> names;
};

class DnsCache {
 public:
  explicit DnsCache(size_t entries_max) : entries_max_(entries_max) {}

  // The answer stored under `key`, unless it expired by `now_ms` (then it is dropped).
  std::shared_ptr<const CachedLookup> find(const std::string& key, int64_t now_ms);
  // Stores (or replaces) the answer for `key` until `expires_ms`.
  void put(const std::string& key, std::shared_ptr<const CachedLookup> value, int64_t expires_ms);
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const CachedLookup> value;
    int64_t expires_ms = 0;
    std::list<std::string>::iterator age;
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const size_t entries_max_;
  std::unordered_map<std::string, Entry> map_;
  std::list<std::string> order_;  // keys, oldest stored first
};

}  // namespace rm
