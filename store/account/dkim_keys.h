// DKIM signing keys in the store: per domain, one or more (selector, algorithm, private key)
// records, so that a domain can sign with rsa-sha256 and ed25519-sha256 at once.
//
// Stored in the `account` column family: "k:<domain>/<selector>" -> "<rsa|ed25519>\n<PEM>",
// domain and selector lower case. Loaded whole at start and after every change (a handful of
// records), and kept in memory as a DkimKeySet snapshot that outbound delivery reads.
//
//   RM_RETURN_IF_ERROR(put_dkim_key(db, {"example.com", "s1", KeyType::kEd25519, pem}));
//   Result<DkimKeySet> keys = load_dkim_keys(db);
//   for (const DkimKeyEntry* k : keys->for_domain("example.com")) { ... }
//
// Untrusted input: the domain, selector and PEM come from the operator (admin commands) and
// are checked against the limits below; the stored records are checked again when loaded.
// Thread-safety: the functions block (RocksDB): lane or admin thread only. A DkimKeySet is
// a plain value; share it as shared_ptr<const DkimKeySet>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/crypto/signing_key.h"
#include "store/db/database.h"

namespace rm {

inline constexpr size_t kDkimKeyDomainBytesMax = 253;   // a DNS name
inline constexpr size_t kDkimKeySelectorBytesMax = 63;  // one DNS label's worth (may hold dots)
inline constexpr size_t kDkimKeyPemBytesMax = 16384;    // an RSA-4096 PEM is about 3.3 KiB
inline constexpr size_t kDkimKeysPerDomainMax = 8;

struct DkimKeyEntry {
  std::string domain;    // lower case
  std::string selector;  // lower case
  KeyType type = KeyType::kRsa;
  std::string private_pem;
};

struct DkimKeySet {
  std::vector<DkimKeyEntry> keys;  // ordered by domain, then selector

  bool empty() const { return keys.empty(); }
  // The keys of exactly `domain` (lower case), in selector order.
  std::vector<const DkimKeyEntry*> for_domain(std::string_view domain) const;
};

std::string_view dkim_key_type_name(KeyType type);  // "rsa", "ed25519"

// InvalidArgument unless `domain` is a DNS name and `selector` one or more labels (letters,
// digits, '-', '_', '.' between labels), within the limits.
Status check_dkim_key_name(std::string_view domain, std::string_view selector);

// -- blocking: lane only --
Result<DkimKeySet> load_dkim_keys(Database& db);
// Adds or replaces the key at (domain, selector); refuses more than kDkimKeysPerDomainMax
// selectors per domain.
Status put_dkim_key(Database& db, const DkimKeyEntry& entry);
Status delete_dkim_key(Database& db, std::string_view domain, std::string_view selector);

}  // namespace rm
