#include "store/account/directory.h"

#include <rocksdb/write_batch.h>

namespace rm {
namespace {

constexpr std::string_view kDomainPrefix = "d:";
constexpr std::string_view kUserPrefix = "u:";

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
  Status s = db.scan_prefix(Family::kAccount, kDomainPrefix, [&](std::string_view key, std::string_view) {
    dir->domains.emplace(key.substr(kDomainPrefix.size()));
    return true;
  });
  if (s.ok()) {
    s = db.scan_prefix(Family::kAccount, kUserPrefix, [&](std::string_view key, std::string_view value) {
      dir->users.emplace(std::string(key.substr(kUserPrefix.size())), std::string(value));
      return true;
    });
  }
  if (!s.ok()) {
    return s;
  }
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

}  // namespace rm
