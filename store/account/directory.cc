#include "store/account/directory.h"

#include <rocksdb/write_batch.h>

namespace rm {
namespace {

constexpr std::string_view kDomainPrefix = "d:";
constexpr std::string_view kUserPrefix = "u:";
constexpr std::string_view kAliasPrefix = "a:";
constexpr std::string_view kDeliveryPrefix = "t:";
constexpr size_t kAliasTargetsMax = 1000;

std::string domain_key(const std::string& domain) { return std::string(kDomainPrefix) + domain; }
std::string user_key(const std::string& address) { return std::string(kUserPrefix) + address; }

Status put(Database& db, const std::string& key, const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(db.handle(Family::kAccount), key, value);
  return db.write(batch, true);
}

Status erase(Database& db, const std::string& key) {
  rocksdb::WriteBatch batch;
  batch.Delete(db.handle(Family::kAccount), key);
  return db.write(batch, true);
}

Result<bool> exists(Database& db, const std::string& key) {
  Result<std::optional<std::string>> value = db.get(Family::kAccount, key);
  if (!value.ok()) {
    return value.status();
  }
  return value->has_value();
}

}  // namespace

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

const std::string* Directory::password_hash(const std::string& address) const {
  auto it = users.find(address);
  return it == users.end() ? nullptr : &it->second;
}

Result<std::shared_ptr<const Directory>> load_directory(Database& db) {
  auto dir = std::make_shared<Directory>();
  const auto load = [&](std::string_view prefix, auto&& add) {
    return db.scan_prefix(Family::kAccount, prefix, [&](std::string_view key, std::string_view value) {
      add(std::string(key.substr(prefix.size())), value);
      return true;
    });
  };
  RM_RETURN_IF_ERROR(load(kDomainPrefix, [&](std::string key, std::string_view) {
    dir->domains.emplace(std::move(key));
  }));
  RM_RETURN_IF_ERROR(load(kUserPrefix, [&](std::string key, std::string_view value) {
    dir->users.emplace(std::move(key), std::string(value));
  }));
  RM_RETURN_IF_ERROR(load(kAliasPrefix, [&](std::string key, std::string_view value) {
    std::vector<std::string>& targets = dir->aliases[std::move(key)];
    for (size_t start = 0; start < value.size();) {
      const size_t end = std::min(value.find('\n', start), value.size());
      if (end > start) {
        targets.emplace_back(value.substr(start, end - start));
      }
      start = end + 1;
    }
  }));
  RM_RETURN_IF_ERROR(load(kDeliveryPrefix, [&](std::string key, std::string_view value) {
    dir->deliveries.emplace(std::move(key), std::string(value));
  }));
  return std::shared_ptr<const Directory>(std::move(dir));
}

Status add_domain(Database& db, const std::string& domain) {
  Result<bool> found = exists(db, domain_key(domain));
  if (!found.ok()) return found.status();
  if (*found) return Status::AlreadyExists("domain " + domain + " exists");
  return put(db, domain_key(domain), "");
}

Status delete_domain(Database& db, const std::string& domain) {
  Result<bool> found = exists(db, domain_key(domain));
  if (!found.ok()) return found.status();
  if (!*found) return Status::NotFound("no domain " + domain);
  bool has_users = false;
  RM_RETURN_IF_ERROR(db.scan_prefix(Family::kAccount, kUserPrefix, [&](std::string_view key, std::string_view) {
    const size_t at = key.rfind('@');
    has_users = at != std::string_view::npos && key.substr(at + 1) == domain;
    return !has_users;
  }));
  if (has_users) {
    return Status::InvalidArgument("domain " + domain + " still has users; delete them first");
  }
  return erase(db, domain_key(domain));
}

Status put_user(Database& db, const std::string& address, const std::string& password_hash,
                bool replace) {
  const size_t at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size()) {
    return Status::InvalidArgument("'" + address + "' is not an address (user@domain)");
  }
  Result<bool> domain = exists(db, domain_key(address.substr(at + 1)));
  if (!domain.ok()) return domain.status();
  if (!*domain) {
    return Status::NotFound("no domain " + address.substr(at + 1) + " (add it with: ringmail domain add)");
  }
  Result<bool> user = exists(db, user_key(address));
  if (!user.ok()) return user.status();
  if (*user && !replace) return Status::AlreadyExists("user " + address + " exists");
  if (!*user && replace) return Status::NotFound("no user " + address);
  return put(db, user_key(address), password_hash);
}

Status delete_user(Database& db, const std::string& address) {
  Result<bool> user = exists(db, user_key(address));
  if (!user.ok()) return user.status();
  if (!*user) return Status::NotFound("no user " + address);
  return erase(db, user_key(address));
}

namespace {

// "user@domain" or "@domain" whose domain is local; returns the domain.
Result<std::string> local_target_domain(Database& db, const std::string& address) {
  const size_t at = address.rfind('@');
  if (at == std::string::npos || at + 1 == address.size() ||
      address.find_first_of(" \t\r\n,") != std::string::npos) {
    return Status::InvalidArgument("'" + address + "' is not an address (user@domain or @domain)");
  }
  const std::string domain = address.substr(at + 1);
  Result<bool> found = exists(db, domain_key(domain));
  if (!found.ok()) return found.status();
  if (!*found) {
    return Status::NotFound("no domain " + domain + " (add it with: ringmail domain add)");
  }
  return domain;
}

}  // namespace

Status put_alias(Database& db, const std::string& address, const std::vector<std::string>& targets) {
  Result<std::string> domain = local_target_domain(db, address);
  if (!domain.ok()) return domain.status();
  if (targets.empty() || targets.size() > kAliasTargetsMax) {
    return Status::InvalidArgument("an alias needs 1 to " + std::to_string(kAliasTargetsMax) +
                                   " targets");
  }
  std::string value;
  for (const std::string& target : targets) {
    const size_t at = target.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == target.size() ||
        target.find_first_of(" \t\r\n,<>") != std::string::npos) {
      return Status::InvalidArgument("alias target '" + target + "' is not an address");
    }
    value += (value.empty() ? "" : "\n") + target;
  }
  return put(db, std::string(kAliasPrefix) + address, value);
}

Status delete_alias(Database& db, const std::string& address) {
  const std::string key = std::string(kAliasPrefix) + address;
  Result<bool> found = exists(db, key);
  if (!found.ok()) return found.status();
  if (!*found) return Status::NotFound("no alias " + address);
  return erase(db, key);
}

Status put_delivery(Database& db, const std::string& address, const std::string& spec) {
  Result<std::string> domain = local_target_domain(db, address);
  if (!domain.ok()) return domain.status();
  const std::string key = std::string(kDeliveryPrefix) + address;
  if (spec == "store") {
    return erase(db, key);
  }
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  if (colon == std::string::npos || (kind != "maildir" && kind != "mbox") ||
      spec.size() <= colon + 1 || spec[colon + 1] != '/') {
    return Status::InvalidArgument("delivery '" + spec +
                                   "' is none of: store, maildir:/PATH, mbox:/PATH");
  }
  return put(db, key, spec);
}

}  // namespace rm
