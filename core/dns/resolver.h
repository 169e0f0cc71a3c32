// Resolver: one shard's DNS client for mail routing, c-ares driven by the shard's reactor.
//
//   auto resolver = Resolver::create(shard, {.servers = "127.0.0.1:5353"}).value();
//   resolver->resolve_mx("example.org", [](MxAnswer answer) {
//     if (answer.status.ok()) { for (const MxHost& host : answer.hosts) ... }
//     else if (answer.error == DnsError::kTemporary) { /* defer the delivery */ }
//     else { /* bounce: no such domain, null MX, no address */ }
//   });
//
// c-ares owns the sockets and the wire format; the shard watches its sockets (watch_fd,
// level-triggered) and runs its timeouts (start_timer), so there is no thread and no
// blocking call. Answers are cached per (name, type) for their TTL (the smallest TTL of
// the records used, at most ttl_max_s); negative answers (NXDOMAIN, no records of a type)
// for the SOA's negative TTL or negative_ttl_s, at most negative_ttl_max_s; temporary
// failures are not cached. Concurrent lookups of one (name, type) share one query.
//
// resolve() is the plain lookup of one (name, type) — A, AAAA, MX (exchanges not resolved),
// TXT (each record's strings kept apart) or PTR — for SPF, DKIM and DMARC. Its answer says
// NXDOMAIN, no records of the type, or a temporary failure apart. Names for it may hold any
// printable ASCII byte but a backslash (SPF macros make such names), in labels of 1..63 bytes.
//
// resolve_mx() follows RFC 5321 §5.1: MX records sorted by preference (equal preferences
// shuffled), each exchange resolved to its A and AAAA addresses; no MX records means the
// domain itself is the only host (implicit MX, preference 0); a lone MX "." is a null MX
// (RFC 7505): the domain accepts no mail.
//
// Callbacks run on the shard thread, always later than the call that asked (never inside
// it, never inside c-ares), so they may start lookups or destroy the Resolver. Destroying
// the Resolver drops the callbacks of lookups still running without calling them.
// Untrusted input: domain names from SMTP envelopes (checked: letters, digits, '-', '_',
// labels of 1..63 bytes, 253 bytes in all) and responses from the network (dns_message.h).
// Thread-safety: create, use and destroy it on its shard's thread, while the shard runs.
#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/status.h"
#include "core/dns/dns_cache.h"
#include "core/dns/dns_message.h"
#include "core/net/cidr.h"

namespace rm {

class Shard;

struct ResolverOptions {
  // Servers as "ip", "ip:port", "[ipv6]:port", comma-separated ("127.0.0.1:5353").
  // Empty: the servers of /etc/resolv.conf.
  std::string servers;
  uint32_t timeout_ms = 2000;  // first try; c-ares doubles it for each later round
  uint32_t tries = 2;          // rounds over the servers before a query times out
  size_t cache_entries_max = 10000;
  uint32_t ttl_max_s = 86400;         // positive answers are kept at most this long
  uint32_t negative_ttl_s = 60;       // negative answers without an SOA
  uint32_t negative_ttl_max_s = 900;  // negative answers, whatever their SOA says
  size_t mx_hosts_max = 16;           // MX records looked at per domain (lowest first)
};

// Why a lookup has no usable answer. Permanent ones (every kind but kTemporary) will not
// change by asking again soon.
enum class DnsError : uint8_t {
  kNone,
  kNoSuchDomain,  // NXDOMAIN
  kNullMx,        // RFC 7505: the domain accepts no mail
  kNoAddress,     // the name exists, but neither it nor any MX host has an A or AAAA record
  kInvalidName,   // not a valid domain name
  kTemporary,     // SERVFAIL, timeout, no server reachable, malformed response
  kNoRecords,     // resolve(): the name exists without records of the type asked
};
std::string_view dns_error_name(DnsError error);

struct HostAnswer {
  Status status;  // OK when addresses is not empty
  DnsError error = DnsError::kNone;
  std::vector<IpAddress> addresses;  // IPv4 first, then IPv6, each in answer order
};

struct MxHost {
  std::string name;
  uint16_t preference = 0;
  std::vector<IpAddress> addresses;
  DnsError error = DnsError::kNone;  // why addresses is empty, if it is
};

struct MxAnswer {
  Status status;  // OK when at least one host has an address
  DnsError error = DnsError::kNone;
  bool implicit = false;      // no MX records: the domain itself, preference 0
  std::vector<MxHost> hosts;  // by preference; hosts without addresses are kept
};

// resolve(): the records of one type for one name.
struct DnsAnswer {
  Status status;  // OK when there are records
  DnsError error = DnsError::kNone;  // else kNoSuchDomain, kNoRecords, kInvalidName, kTemporary
  std::vector<IpAddress> addresses;           // A, AAAA
  std::vector<MxRecord> mx;                   // MX, in answer order
  std::vector<std::vector<std::string>> txt;  // TXT: each record's character-strings
  std::vector<std::string> names;             // PTR
};

// The TXT records of an answer, each record's character-strings joined (what SPF, DKIM and
// DMARC read: RFC 7208 §3.3, RFC 6376 §3.6.2.2).
std::vector<std::string> joined_txt_records(const DnsAnswer& answer);

using HostCallback = std::function<void(HostAnswer answer)>;
using DnsCallback = std::function<void(DnsAnswer answer)>;
using MxCallback = std::function<void(MxAnswer answer)>;

class Resolver {
 public:
  // Fails when c-ares cannot start or `options.servers` does not parse.
  static Result<std::unique_ptr<Resolver>> create(Shard& shard, const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void resolve_mx(std::string_view domain, MxCallback done);
  void resolve_host(std::string_view name, HostCallback done);
  // `type` is kA, kAaaa, kMx, kTxt or kPtr.
  void resolve(std::string_view name, DnsType type, DnsCallback done);

  uint64_t queries_sent() const { return queries_sent_; }  // went to the network
  uint64_t cache_hits() const { return cache_hits_; }
  size_t cache_size() const { return cache_.size(); }

 private:
  // One (name, type) lookup as the cache holds it; `status` is not OK on a temporary or
  // naming failure, and then `records` is null.
  struct Lookup {
    Status status;
    std::shared_ptr<const CachedLookup> records;
  };
  using LookupCallback = std::function<void(const Lookup& lookup)>;
  struct Query;
  struct Socket {
    uint64_t watch = 0;
    uint32_t events = 0;
  };

  Resolver(Shard& shard, const ResolverOptions& options);
  Status init();

  void lookup(const std::string& name, DnsType type, LookupCallback done);
  void finish_query(Query& query, int status, const uint8_t* answer, int length);
  Lookup to_lookup(const Query& query, int status, const uint8_t* answer, int length);
  // The internal forms answer inside the call when the cache holds everything; the public
  // ones defer their callbacks to the shard.
  void lookup_host(const std::string& name, HostCallback done);
  void on_mx_records(const std::string& domain, const Lookup& mx, MxCallback done);
  void resolve_implicit_mx(const std::string& domain, MxCallback done);
  void resolve_exchanges(const std::string& domain, std::vector<MxHost> hosts, MxCallback done);
  void sort_by_preference(std::vector<MxHost>& hosts);

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_ares_answer(void* arg, int status, int timeouts, unsigned char* answer,
                             int length);
  void on_socket_ready(ares_socket_t fd, uint32_t revents);
  void update_timeout();

  Shard& shard_;
  const ResolverOptions options_;
  ares_channel channel_ = nullptr;
  bool destroying_ = false;
  std::unordered_map<ares_socket_t, Socket> sockets_;
  uint64_t timer_ = 0;  // 0: none
  int64_t timer_deadline_ms_ = 0;
  DnsCache cache_;
  // Lookups waiting for a query in flight, by cache key.
  std::unordered_map<std::string, std::vector<LookupCallback>> waiting_;
  std::minstd_rand rng_;
  uint64_t queries_sent_ = 0;
  uint64_t cache_hits_ = 0;
};

}  // namespace rm
