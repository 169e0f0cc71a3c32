// Directory: the domains and users the server knows, as an immutable snapshot.
//
// Stored in the `account` column family (keys "d:<domain>" and "u:<address>", lower case);
// loaded whole at start and after every change, then handed to every shard as a
// shared_ptr<const Directory>, so RCPT and AUTH checks read memory, never RocksDB.
// Thread-safety: a snapshot is immutable once built; share it freely.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/base/status.h"
#include "store/db/database.h"

namespace rm {

struct Directory {
  std::unordered_set<std::string> domains;                // lower case
  std::unordered_map<std::string, std::string> users;     // address -> Argon2id hash

  bool has_domain(const std::string& domain) const { return domains.count(domain) != 0; }
  const std::string* password_hash(const std::string& address) const;
};

std::string lower_ascii(std::string_view text);

// -- blocking: lane only --
Result<std::shared_ptr<const Directory>> load_directory(Database& db);
Status add_domain(Database& db, const std::string& domain);
Status delete_domain(Database& db, const std::string& domain);  // refuses while users remain
// Adds (or, with replace, changes the password of) a user; the domain must exist.
Status put_user(Database& db, const std::string& address, const std::string& password_hash,
                bool replace);
Status delete_user(Database& db, const std::string& address);

}  // namespace rm
