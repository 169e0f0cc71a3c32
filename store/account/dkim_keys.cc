#include "store/account/dkim_keys.h"

#include <rocksdb/write_batch.h>

#include <algorithm>

namespace rm {
namespace {

constexpr std::string_view kDkimKeyPrefix = "k:";

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Labels of [a-z0-9-_] (lower case), separated by single dots, none empty or over 63.
bool is_dns_name(std::string_view name) {
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0)
        return false;
      label = 0;
    } else if (is_label_char(c) && ++label <= 63) {
      continue;
    } else {
      return false;
    }
  }
  return label != 0;
}

std::string key_of(std::string_view domain, std::string_view selector) {
  return std::string(kDkimKeyPrefix) + std::string(domain) + "/" + std::string(selector);
}

std::string domain_prefix(std::string_view domain) {
  return std::string(kDkimKeyPrefix) + std::string(domain) + "/";
}

Result<KeyType> type_of_name(std::string_view name) {
  if (name == "rsa")
    return KeyType::kRsa;
  if (name == "ed25519")
    return KeyType::kEd25519;
  return Status::InvalidArgument("unknown DKIM key type '" + std::string(name) + "'");
}

}  // namespace

std::string_view dkim_key_type_name(KeyType type) {
  return type == KeyType::kEd25519 ? "ed25519" : "rsa";
}

std::vector<const DkimKeyEntry*> DkimKeySet::for_domain(std::string_view domain) const {
  std::vector<const DkimKeyEntry*> out;
  for (const DkimKeyEntry& k : keys) {
    if (k.domain == domain)
      out.push_back(&k);
  }
  return out;
}

Status check_dkim_key_name(std::string_view domain, std::string_view selector) {
  if (domain.size() > kDkimKeyDomainBytesMax || !is_dns_name(domain)) {
    return Status::InvalidArgument("'" + std::string(domain.substr(0, 64)) +
                                   "' is not a domain name (lower case, at most " +
                                   std::to_string(kDkimKeyDomainBytesMax) + " bytes)");
  }
  if (selector.size() > kDkimKeySelectorBytesMax || !is_dns_name(selector)) {
    return Status::InvalidArgument("'" + std::string(selector.substr(0, 64)) +
                                   "' is not a selector (DNS labels, lower case, at most " +
                                   std::to_string(kDkimKeySelectorBytesMax) + " bytes)");
  }
  return Status::Ok();
}

Result<DkimKeySet> load_dkim_keys(Database& db) {
  DkimKeySet set;
  Status bad = Status::Ok();
  RM_RETURN_IF_ERROR(db.scan_prefix(
      Family::kAccount, kDkimKeyPrefix, [&](std::string_view key, std::string_view value) {
        key.remove_prefix(kDkimKeyPrefix.size());
        const size_t slash = key.rfind('/');
        const size_t eol = value.find('\n');
        if (slash == std::string_view::npos || eol == std::string_view::npos) {
          bad = Status::Internal("malformed DKIM key record k:" + std::string(key));
          return false;
        }
        Result<KeyType> type = type_of_name(value.substr(0, eol));
        if (!type.ok()) {
          bad = type.status();
          return false;
        }
        set.keys.push_back(DkimKeyEntry{std::string(key.substr(0, slash)),
                                        std::string(key.substr(slash + 1)), *type,
                                        std::string(value.substr(eol + 1))});
        return true;
      }));
  RM_RETURN_IF_ERROR(bad);
  return set;
}

Status put_dkim_key(Database& db, const DkimKeyEntry& entry) {
  RM_RETURN_IF_ERROR(check_dkim_key_name(entry.domain, entry.selector));
  if (entry.private_pem.empty() || entry.private_pem.size() > kDkimKeyPemBytesMax) {
    return Status::InvalidArgument("a DKIM private key PEM must have 1 to " +
                                   std::to_string(kDkimKeyPemBytesMax) + " bytes");
  }
  const std::string key = key_of(entry.domain, entry.selector);
  size_t others = 0;
  RM_RETURN_IF_ERROR(db.scan_prefix(Family::kAccount, domain_prefix(entry.domain),
                                    [&](std::string_view k, std::string_view) {
                                      others += k == key ? 0 : 1;
                                      return true;
                                    }));
  if (others >= kDkimKeysPerDomainMax) {
    return Status::ResourceExhausted("domain " + entry.domain + " already has " +
                                     std::to_string(kDkimKeysPerDomainMax) + " DKIM keys");
  }
  rocksdb::WriteBatch batch;
  batch.Put(db.handle(Family::kAccount), key,
            std::string(dkim_key_type_name(entry.type)) + "\n" + entry.private_pem);
  return db.write(batch, true);
}

Status delete_dkim_key(Database& db, std::string_view domain, std::string_view selector) {
  RM_RETURN_IF_ERROR(check_dkim_key_name(domain, selector));
  const std::string key = key_of(domain, selector);
  Result<std::optional<std::string>> found = db.get(Family::kAccount, key);
  if (!found.ok())
    return found.status();
  if (!found->has_value()) {
    return Status::NotFound("no DKIM key " + std::string(selector) + " for " + std::string(domain));
  }
  rocksdb::WriteBatch batch;
  batch.Delete(db.handle(Family::kAccount), key);
  return db.write(batch, true);
}

}  // namespace rm
