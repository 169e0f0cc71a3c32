#include "core/dns/resolver.h"

#include <poll.h>

#include <algorithm>
#include <mutex>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/net/dns_name.h"
#include "core/reactor/shard.h"

namespace rm {
namespace {

constexpr int kClassIn = 1;

Status init_library() {
  static std::once_flag once;
  static int rc = ARES_SUCCESS;
  std::call_once(once, [] { rc = ares_library_init(ARES_LIB_INIT_ALL); });
  if (rc != ARES_SUCCESS) {
    return Status::Internal(std::string("c-ares library init: ") + ares_strerror(rc));
  }
  return Status::Ok();
}

// A normalized (lower-case, no trailing dot) host or domain name we are willing to look up.
bool valid_name(std::string_view name) { return dns_name_shape_ok(name, is_host_name_byte); }

// What resolve() accepts: printable ASCII (spaces too) but a backslash (c-ares' escape).
bool valid_query_name(std::string_view name) {
  return dns_name_shape_ok(name, is_query_name_byte);
}

std::string_view type_name(DnsType type) {
  switch (type) {
    case DnsType::kA:
      return "A";
    case DnsType::kAaaa:
      return "AAAA";
    case DnsType::kMx:
      return "MX";
    case DnsType::kCname:
      return "CNAME";
    case DnsType::kSoa:
      return "SOA";
    case DnsType::kTxt:
      return "TXT";
    case DnsType::kPtr:
      return "PTR";
  }
  return "?";
}

std::string cache_key(DnsType type, const std::string& name) {
  return std::string(type_name(type)) + " " + name;
}

Status invalid_name(std::string_view name) {
  return Status::InvalidArgument("'" + std::string(name) + "' is not a valid domain name");
}

}  // namespace

std::string_view dns_error_name(DnsError error) {
  switch (error) {
    case DnsError::kNone:
      return "none";
    case DnsError::kNoSuchDomain:
      return "no_such_domain";
    case DnsError::kNullMx:
      return "null_mx";
    case DnsError::kNoAddress:
      return "no_address";
    case DnsError::kInvalidName:
      return "invalid_name";
    case DnsError::kTemporary:
      return "temporary";
    case DnsError::kNoRecords:
      return "no_records";
  }
  return "?";
}

// What c-ares carries for one query in flight.
struct Resolver::Query {
  Resolver* resolver;
  std::string key;
  std::string name;
  DnsType type;
};

// ---- set-up and tear-down ----

Result<std::unique_ptr<Resolver>> Resolver::create(Shard& shard, const ResolverOptions& options) {
  std::unique_ptr<Resolver> resolver(new Resolver(shard, options));
  RM_RETURN_IF_ERROR(resolver->init());
  return resolver;
}

Resolver::Resolver(Shard& shard, const ResolverOptions& options)
    : shard_(shard),
      options_(options),
      cache_(options.cache_entries_max),
      rng_(std::random_device{}()) {}

Status Resolver::init() {
  RM_ASSERT(Shard::current() == &shard_);
  RM_RETURN_IF_ERROR(init_library());
  ares_options opts{};
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  opts.timeout = static_cast<int>(std::max<uint32_t>(options_.timeout_ms, 1));
  opts.tries = static_cast<int>(std::max<uint32_t>(options_.tries, 1));
  opts.sock_state_cb = &Resolver::on_sock_state;
  opts.sock_state_cb_data = this;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  ares_channel channel = nullptr;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc != ARES_SUCCESS) {
    return Status::Internal(std::string("c-ares channel: ") + ares_strerror(rc));
  }
  channel_ = channel;
  if (!options_.servers.empty()) {
    rc = ares_set_servers_ports_csv(channel_, options_.servers.c_str());
    if (rc != ARES_SUCCESS) {
      return Status::InvalidArgument("resolver servers '" + options_.servers +
                                     "': " + ares_strerror(rc));
    }
  }
  return Status::Ok();
}

Resolver::~Resolver() {
  destroying_ = true;
  if (timer_ != 0) {
    shard_.cancel_timer(timer_);
  }
  if (channel_ != nullptr) {
    ares_destroy(channel_);  // answers every query with ARES_EDESTRUCTION, closes sockets
  }
  for (const auto& [fd, socket] : sockets_) {
    shard_.unwatch_fd(socket.watch);
  }
}

// ---- c-ares on the reactor ----

void Resolver::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto& self = *static_cast<Resolver*>(data);
  const uint32_t events = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
  if (const auto it = self.sockets_.find(fd); it != self.sockets_.end()) {
    if (it->second.events == events) {
      return;
    }
    self.shard_.unwatch_fd(it->second.watch);
    self.sockets_.erase(it);
  }
  if (events != 0) {
    // Level-triggered: c-ares reads a TCP answer in several calls, one per readiness.
    const uint64_t watch = self.shard_.watch_fd(
        fd, events, [&self, fd](uint32_t revents) { self.on_socket_ready(fd, revents); },
        WatchMode::kLevel);
    self.sockets_[fd] = Socket{watch, events};
  }
}

void Resolver::on_socket_ready(ares_socket_t fd, uint32_t revents) {
  const ares_socket_t readable =
      (revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) ? fd : ARES_SOCKET_BAD;
  const ares_socket_t writable = (revents & POLLOUT) ? fd : ARES_SOCKET_BAD;
  ares_process_fd(channel_, readable, writable);
  update_timeout();
}

// Keeps one shard timer armed for c-ares' next timeout.
void Resolver::update_timeout() {
  if (destroying_) {
    return;
  }
  timeval tv{};
  const timeval* next = ares_timeout(channel_, nullptr, &tv);
  if (next == nullptr) {
    if (timer_ != 0) {
      shard_.cancel_timer(timer_);
      timer_ = 0;
    }
    return;
  }
  const int64_t deadline =
      monotonic_ms() + int64_t{next->tv_sec} * 1000 + (int64_t{next->tv_usec} + 999) / 1000;
  if (timer_ != 0 && timer_deadline_ms_ <= deadline) {
    return;  // an earlier wake-up is armed; it arms the next one
  }
  if (timer_ != 0) {
    shard_.cancel_timer(timer_);
  }
  timer_deadline_ms_ = deadline;
  timer_ = shard_.start_timer(deadline, [this] {
    timer_ = 0;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    update_timeout();
  });
}

// ---- one (name, type) lookup: the cache, then one shared query ----

void Resolver::lookup(const std::string& name, DnsType type, LookupCallback done) {
  const std::string key = cache_key(type, name);
  if (std::shared_ptr<const CachedLookup> cached = cache_.find(key, monotonic_ms())) {
    ++cache_hits_;
    done(Lookup{Status::Ok(), std::move(cached)});
    return;
  }
  auto [it, first] = waiting_.try_emplace(key);
  it->second.push_back(std::move(done));
  if (!first) {
    return;
  }
  ++queries_sent_;
  RM_LOG(kDebug, "dns_query").kv("type", type_name(type)).kv("name", name);
  // c-ares may answer inside this call (no server, no socket); finish_query copes.
  ares_query(channel_, name.c_str(), kClassIn, static_cast<int>(type), &Resolver::on_ares_answer,
             new Query{this, key, name, type});
  update_timeout();
}

void Resolver::on_ares_answer(void* arg, int status, int /*timeouts*/, unsigned char* answer,
                              int length) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  Resolver& self = *query->resolver;
  if (self.destroying_ || status == ARES_EDESTRUCTION) {
    return;
  }
  self.finish_query(*query, status, answer, length);
}

void Resolver::finish_query(Query& query, int status, const uint8_t* answer, int length) {
  const Lookup result = to_lookup(query, status, answer, length);
  if (!result.status.ok()) {
    RM_LOG(kInfo, "dns_failed")
        .kv("type", type_name(query.type))
        .kv("name", query.name)
        .kv("error", result.status);
  }
  auto waiting = waiting_.extract(query.key);
  if (waiting.empty()) {
    return;
  }
  for (LookupCallback& done : waiting.mapped()) {
    done(result);
  }
}

Resolver::Lookup Resolver::to_lookup(const Query& query, int status, const uint8_t* answer,
                                     int length) {
  const std::string what = "DNS " + std::string(type_name(query.type)) + " " + query.name;
  auto records = std::make_shared<CachedLookup>();
  std::optional<uint32_t> ttl;
  const bool answered =
      status == ARES_SUCCESS || status == ARES_ENODATA || status == ARES_ENOTFOUND;
  if (!answered) {
    if (status == ARES_EBADNAME) {
      return Lookup{invalid_name(query.name), nullptr};
    }
    return Lookup{Status::Unavailable(what + ": " + ares_strerror(status)), nullptr};
  }
  if (answer == nullptr || length <= 0) {
    records->kind =
        status == ARES_ENOTFOUND ? CachedLookup::Kind::kNxDomain : CachedLookup::Kind::kNoData;
  } else {
    Result<DnsRecords> parsed =
        parse_dns_response(answer, static_cast<size_t>(length), query.name, query.type);
    if (!parsed.ok()) {
      return Lookup{Status::Unavailable(what + ": " + std::string(parsed.status().message())),
                    nullptr};
    }
    if (parsed->rcode != kRcodeNoError && parsed->rcode != kRcodeNxDomain) {
      return Lookup{Status::Unavailable(what + ": rcode " + std::to_string(parsed->rcode)),
                    nullptr};
    }
    ttl = parsed->ttl_s;
    const bool empty = parsed->empty();
    records->addresses = std::move(parsed->addresses);
    records->mx = std::move(parsed->mx);
    records->txt = std::move(parsed->txt);
    records->names = std::move(parsed->names);
    records->kind = parsed->rcode == kRcodeNxDomain ? CachedLookup::Kind::kNxDomain
                    : empty                         ? CachedLookup::Kind::kNoData
                                                    : CachedLookup::Kind::kRecords;
  }
  uint32_t keep_s = 0;
  if (records->kind == CachedLookup::Kind::kRecords) {
    keep_s = std::min(ttl.value_or(0), options_.ttl_max_s);
  } else {
    keep_s = ttl ? std::min(*ttl, options_.negative_ttl_max_s) : options_.negative_ttl_s;
  }
  if (keep_s > 0) {
    cache_.put(query.key, records, monotonic_ms() + int64_t{keep_s} * 1000);
  }
  return Lookup{Status::Ok(), std::move(records)};
}

// ---- hosts ----

namespace {

HostAnswer combine_host(const std::string& name, const Status& a_status, const CachedLookup* a,
                        const Status& aaaa_status, const CachedLookup* aaaa) {
  HostAnswer out;
  for (const CachedLookup* part : {a, aaaa}) {
    if (part != nullptr) {
      out.addresses.insert(out.addresses.end(), part->addresses.begin(), part->addresses.end());
    }
  }
  if (!out.addresses.empty()) {
    return out;
  }
  if (!a_status.ok() || !aaaa_status.ok()) {
    out.status = !a_status.ok() ? a_status : aaaa_status;
    out.error = out.status.code() == StatusCode::kInvalidArgument ? DnsError::kInvalidName
                                                                  : DnsError::kTemporary;
  } else if (a->kind == CachedLookup::Kind::kNxDomain ||
             aaaa->kind == CachedLookup::Kind::kNxDomain) {
    out.status = Status::NotFound(name + ": no such domain");
    out.error = DnsError::kNoSuchDomain;
  } else {
    out.status = Status::NotFound(name + ": no A or AAAA records");
    out.error = DnsError::kNoAddress;
  }
  return out;
}

}  // namespace

void Resolver::resolve_host(std::string_view name, HostCallback done) {
  Shard* shard = &shard_;
  HostCallback deliver = [shard, done = std::move(done)](HostAnswer answer) {
    shard->defer([done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
  };
  const std::string normalized = normalize_dns_name(name);
  if (!valid_name(normalized)) {
    deliver(HostAnswer{invalid_name(name), DnsError::kInvalidName, {}});
    return;
  }
  lookup_host(normalized, std::move(deliver));
}

// Both lookups in parallel; `done` runs when the second one answers.
void Resolver::lookup_host(const std::string& name, HostCallback done) {
  struct Job {
    std::string name;
    HostCallback done;
    Lookup a;
    Lookup aaaa;
    int pending = 2;
  };
  auto job = std::make_shared<Job>();
  job->name = name;
  job->done = std::move(done);
  auto finish = [job] {
    if (--job->pending == 0) {
      job->done(combine_host(job->name, job->a.status, job->a.records.get(), job->aaaa.status,
                             job->aaaa.records.get()));
    }
  };
  lookup(name, DnsType::kA, [job, finish](const Lookup& result) {
    job->a = result;
    finish();
  });
  lookup(name, DnsType::kAaaa, [job, finish](const Lookup& result) {
    job->aaaa = result;
    finish();
  });
}

// ---- one type, as it is ----

namespace {

DnsAnswer to_answer(const std::string& name, DnsType type, const Status& status,
                    const CachedLookup* records) {
  DnsAnswer out;
  if (!status.ok()) {
    out.status = status;
    out.error = status.code() == StatusCode::kInvalidArgument ? DnsError::kInvalidName
                                                              : DnsError::kTemporary;
    return out;
  }
  switch (records->kind) {
    case CachedLookup::Kind::kNxDomain:
      out.status = Status::NotFound(name + ": no such domain");
      out.error = DnsError::kNoSuchDomain;
      return out;
    case CachedLookup::Kind::kNoData:
      out.status = Status::NotFound(name + ": no " + std::string(type_name(type)) + " records");
      out.error = DnsError::kNoRecords;
      return out;
    case CachedLookup::Kind::kRecords:
      break;
  }
  out.addresses = records->addresses;
  out.mx = records->mx;
  out.txt = records->txt;
  out.names = records->names;
  return out;
}

}  // namespace

void Resolver::resolve(std::string_view name, DnsType type, DnsCallback done) {
  RM_ASSERT(type == DnsType::kA || type == DnsType::kAaaa || type == DnsType::kMx ||
            type == DnsType::kTxt || type == DnsType::kPtr);
  Shard* shard = &shard_;
  DnsCallback deliver = [shard, done = std::move(done)](DnsAnswer answer) {
    shard->defer([done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
  };
  const std::string normalized = normalize_dns_name(name);
  if (!valid_query_name(normalized)) {
    DnsAnswer invalid;
    invalid.status = invalid_name(name);
    invalid.error = DnsError::kInvalidName;
    deliver(std::move(invalid));
    return;
  }
  lookup(normalized, type, [normalized, type, deliver](const Lookup& result) {
    deliver(to_answer(normalized, type, result.status, result.records.get()));
  });
}

// ---- MX ----

void Resolver::resolve_mx(std::string_view domain, MxCallback done) {
  Shard* shard = &shard_;
  MxCallback deliver = [shard, done = std::move(done)](MxAnswer answer) {
    shard->defer([done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
  };
  const std::string normalized = normalize_dns_name(domain);
  if (!valid_name(normalized)) {
    deliver(MxAnswer{invalid_name(domain), DnsError::kInvalidName, false, {}});
    return;
  }
  lookup(normalized, DnsType::kMx,
         [this, normalized, deliver](const Lookup& mx) { on_mx_records(normalized, mx, deliver); });
}

void Resolver::on_mx_records(const std::string& domain, const Lookup& mx, MxCallback done) {
  if (!mx.status.ok()) {
    const bool invalid = mx.status.code() == StatusCode::kInvalidArgument;
    done(MxAnswer{mx.status, invalid ? DnsError::kInvalidName : DnsError::kTemporary, false, {}});
    return;
  }
  switch (mx.records->kind) {
    case CachedLookup::Kind::kNxDomain:
      done(MxAnswer{
          Status::NotFound(domain + ": no such domain"), DnsError::kNoSuchDomain, false, {}});
      return;
    case CachedLookup::Kind::kNoData:
      resolve_implicit_mx(domain, std::move(done));
      return;
    case CachedLookup::Kind::kRecords:
      break;
  }
  std::vector<MxHost> hosts;
  for (const MxRecord& record : mx.records->mx) {
    if (!record.exchange.empty()) {
      hosts.push_back(MxHost{record.exchange, record.preference, {}, DnsError::kNone});
    }
  }
  if (hosts.empty()) {  // "." alone (RFC 7505), or only "." records
    done(MxAnswer{
        Status::NotFound(domain + ": accepts no mail (null MX)"), DnsError::kNullMx, false, {}});
    return;
  }
  sort_by_preference(hosts);
  if (hosts.size() > options_.mx_hosts_max) {
    hosts.resize(std::max<size_t>(options_.mx_hosts_max, 1));
  }
  resolve_exchanges(domain, std::move(hosts), std::move(done));
}

// RFC 5321 §5.1: without MX records the domain itself is the mail host.
void Resolver::resolve_implicit_mx(const std::string& domain, MxCallback done) {
  lookup_host(domain, [domain, done = std::move(done)](HostAnswer host) {
    MxAnswer out;
    out.implicit = true;
    out.status = host.status;
    out.error = host.error;
    out.hosts.push_back(MxHost{domain, 0, std::move(host.addresses), host.error});
    done(std::move(out));
  });
}

// Equal preferences in random order (RFC 5321 §5.1), so that load spreads over them.
void Resolver::sort_by_preference(std::vector<MxHost>& hosts) {
  std::shuffle(hosts.begin(), hosts.end(), rng_);
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const MxHost& x, const MxHost& y) { return x.preference < y.preference; });
}

namespace {

MxAnswer assemble_mx(const std::string& domain, std::vector<MxHost> hosts) {
  MxAnswer out;
  bool any_address = false;
  bool any_temporary = false;
  for (const MxHost& host : hosts) {
    any_address = any_address || !host.addresses.empty();
    any_temporary = any_temporary || host.error == DnsError::kTemporary;
  }
  if (!any_address && any_temporary) {
    out.status = Status::Unavailable(domain + ": no MX host address yet (temporary DNS failure)");
    out.error = DnsError::kTemporary;
  } else if (!any_address) {
    out.status = Status::NotFound(domain + ": no MX host has an address");
    out.error = DnsError::kNoAddress;
  }
  out.hosts = std::move(hosts);
  return out;
}

}  // namespace

void Resolver::resolve_exchanges(const std::string& domain, std::vector<MxHost> hosts,
                                 MxCallback done) {
  struct Job {
    std::string domain;
    std::vector<MxHost> hosts;
    MxCallback done;
    size_t pending = 0;
  };
  auto job = std::make_shared<Job>();
  job->domain = domain;
  job->hosts = std::move(hosts);
  job->done = std::move(done);
  job->pending = job->hosts.size() + 1;  // +1: held until every lookup has started
  auto finish = [job] {
    if (--job->pending == 0) {
      job->done(assemble_mx(job->domain, std::move(job->hosts)));
    }
  };
  for (size_t i = 0; i < job->hosts.size(); ++i) {
    if (!valid_name(job->hosts[i].name)) {
      job->hosts[i].error = DnsError::kInvalidName;
      finish();
      continue;
    }
    lookup_host(job->hosts[i].name, [job, i, finish](HostAnswer host) {
      job->hosts[i].addresses = std::move(host.addresses);
      job->hosts[i].error = host.error;
      finish();
    });
  }
  finish();
}

std::vector<std::string> joined_txt_records(const DnsAnswer& answer) {
  std::vector<std::string> records;
  records.reserve(answer.txt.size());
  for (const std::vector<std::string>& strings : answer.txt) {
    std::string joined;
    for (const std::string& s : strings) {
      joined += s;
    }
    records.push_back(std::move(joined));
  }
  return records;
}

}  // namespace rm
