// Directory: the domains and users the server knows, as an immutable snapshot.
//
// Stored in the `account` column family, lower case: "d:<domain>" -> "", "u:<address>" ->
// password hash, "a:<address>" or "a:@<domain>" (catch-all) -> alias targets, one per line,
// "t:<address>" or "t:@<domain>" -> delivery spec ("maildir:PATH", "mbox:PATH");
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
  // address or "@domain" (catch-all) -> the addresses it stands for
  std::unordered_map<std::string, std::vector<std::string>> aliases;
  // address or "@domain" -> where its mail goes instead of the store ("maildir:/path/%u")
  std::unordered_map<std::string, std::string> deliveries;

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
// `address` is user@domain or @domain (a catch-all) in a local domain; `targets` are
// addresses (local or not). Replaces an existing alias.
Status put_alias(Database& db, const std::string& address, const std::vector<std::string>& targets);
Status delete_alias(Database& db, const std::string& address);
// `spec` is "store" (the default: remove the entry), "maildir:PATH" or "mbox:PATH"; PATH
// is absolute and may use %u (local part), %d (domain) and %a (address).
Status put_delivery(Database& db, const std::string& address, const std::string& spec);

}  // namespace rm
