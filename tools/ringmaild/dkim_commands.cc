#include "tools/ringmaild/dkim_commands.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "core/base/base64.h"
#include "core/dns/resolver.h"
#include "core/reactor/shard.h"
#include "proto/dkim/header_canon.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/verifier.h"
#include "store/account/dkim_keys.h"
#include "tools/ringmaild/admin_lane.h"

namespace rm {
namespace {

constexpr size_t kZoneStringBytes = 255;  // a TXT character-string's limit

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The control reply is JSON: bytes past ASCII become '?'.
std::string ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<unsigned char>(c) >= 0x80 ? '?' : c;
  }
  return out;
}

std::string record_name(std::string_view domain, std::string_view selector) {
  return std::string(selector) + "._domainkey." + std::string(domain);
}

// The record as a zone file line: character-strings of at most 255 bytes.
std::string zone_line(const std::string& name, const std::string& record) {
  std::string out = name + ". IN TXT (";
  for (size_t at = 0; at < record.size(); at += kZoneStringBytes) {
    out += " \"" + record.substr(at, kZoneStringBytes) + "\"";
  }
  return out + " )";
}

// Reloads the keys after a change and hands them to delivery.
Status reload(Database& db, DkimKeyring& keyring) {
  Result<DkimKeySet> keys = load_dkim_keys(db);
  if (!keys.ok())
    return keys.status();
  keyring.set(std::make_shared<const DkimKeySet>(std::move(keys).value()));
  return Status::Ok();
}

std::string keygen(Database& db, DkimKeyring& keyring, const std::string& domain,
                   const std::string& selector, KeyType type) {
  if (Status st = check_dkim_key_name(domain, selector); !st.ok()) {
    return json_error(st.message());
  }
  Result<DkimKeySet> existing = load_dkim_keys(db);
  if (!existing.ok())
    return json_error(existing.status().message());
  for (const DkimKeyEntry* k : existing->for_domain(domain)) {
    if (k->selector == selector) {
      return json_error("domain " + domain + " already has a key " + selector +
                        " (delete it first: ringmail dkim del " + domain + " " + selector + ")");
    }
  }
  Result<SigningKey> key = SigningKey::generate(type);
  if (!key.ok())
    return json_error(key.status().message());
  if (Status st = put_dkim_key(db, {domain, selector, type, key->private_pem()}); !st.ok()) {
    return json_error(st.message());
  }
  if (Status st = reload(db, keyring); !st.ok())
    return json_error(st.message());
  const std::string name = record_name(domain, selector);
  const std::string record = format_dkim_key_record(type, key->public_der());
  return "{\"ok\":true,\"name\":" + json_quote(name) +
         ",\"type\":" + json_quote(dkim_key_type_name(type)) + ",\"record\":" + json_quote(record) +
         ",\"zone\":" + json_quote(zone_line(name, record)) + "}";
}

std::string list_keys(Database& db) {
  Result<DkimKeySet> keys = load_dkim_keys(db);
  if (!keys.ok())
    return json_error(keys.status().message());
  std::string rows;
  for (const DkimKeyEntry& k : keys->keys) {
    Result<SigningKey> key = SigningKey::load(k.private_pem);
    const std::string record =
        key.ok() ? format_dkim_key_record(k.type, key->public_der())
                 : "(unreadable key: " + std::string(key.status().message()) + ")";
    rows += (rows.empty() ? "" : ",") + std::string("{\"domain\":") + json_quote(k.domain) +
            ",\"selector\":" + json_quote(k.selector) +
            ",\"type\":" + json_quote(dkim_key_type_name(k.type)) +
            ",\"name\":" + json_quote(record_name(k.domain, k.selector)) +
            ",\"record\":" + json_quote(record) + "}";
  }
  return "{\"ok\":true,\"keys\":[" + rows + "]}";
}

// The message from the request's base64 input, with every line ending CRLF.
Result<std::string> message_of(const std::string& input) {
  if (input.size() > (kDkimCommandMessageBytesMax / 3 + 1) * 4) {
    return Status::InvalidArgument("the message is over " +
                                   std::to_string(kDkimCommandMessageBytesMax >> 20) + " MiB");
  }
  std::optional<std::string> raw = base64_decode(input);
  if (!raw)
    return Status::InvalidArgument("the input is not base64");
  if (raw->empty())
    return Status::InvalidArgument("no message on stdin");
  std::string out;
  out.reserve(raw->size() + raw->size() / 32);
  for (size_t i = 0; i < raw->size(); ++i) {
    if ((*raw)[i] == '\n' && (i == 0 || (*raw)[i - 1] != '\r'))
      out += '\r';
    out += (*raw)[i];
  }
  return out;
}

std::string sign(const DkimKeySet& keys, const std::string& input, std::string domain) {
  Result<std::string> message = message_of(input);
  if (!message.ok())
    return json_error(message.status().message());
  if (domain.empty()) {
    domain = dkim_from_domain(*message);
    if (domain.empty())
      return json_error("the message has no From address (or use --domain=)");
  }
  if (keys.for_domain(domain).empty()) {
    return json_error("no DKIM keys for " + domain + " (make one: ringmail dkim keygen " + domain +
                      " SELECTOR)");
  }
  Result<std::string> fields =
      dkim_sign(keys, domain, *message, static_cast<uint64_t>(std::time(nullptr)));
  if (!fields.ok())
    return json_error(fields.status().message());
  return "{\"ok\":true,\"body\":" + json_quote(base64_encode(*fields + *message)) + "}";
}

// "dkim verify": the body is hashed on the lane, then the keys are fetched on the shard.
struct Verification {
  Verification(Shard& s, ControlReply r, std::string host)
      : shard(s), reply(std::move(r)), receiver(std::move(host)) {}

  Shard& shard;
  ControlReply reply;
  std::string receiver;
  std::optional<DkimVerifier> verifier;
  std::string error;
  std::shared_ptr<Resolver> resolver;
  size_t outstanding = 0;

  void answer() {
    std::string rows;
    std::string ar = "Authentication-Results: " + receiver;
    const std::vector<DkimResult> results = verifier->results();
    for (const DkimResult& r : results) {
      rows += (rows.empty() ? "" : ",") + std::string("{\"result\":") +
              json_quote(dkim_status_name(r.status)) +
              ",\"domain\":" + json_quote(ascii(r.domain)) +
              ",\"selector\":" + json_quote(ascii(r.selector)) +
              ",\"algorithm\":" + json_quote(r.algorithm ? dkim_algorithm_name(*r.algorithm) : "") +
              ",\"reason\":" + json_quote(ascii(r.reason)) + "}";
      ar += "; " + ascii(r.authentication_results());
    }
    if (results.empty())
      ar += "; dkim=none";
    reply("{\"ok\":true,\"signatures\":[" + rows +
          "],\"authentication_results\":" + json_quote(ar) + "}");
    // Not from inside the resolver's own callback: later, on the shard.
    shard.defer([dead = std::move(resolver)] {});
  }
};

void look_up_keys(const std::shared_ptr<Verification>& v, const ResolverOptions& dns) {
  const std::vector<std::string> names = v->verifier->key_queries();
  if (names.empty()) {
    v->answer();
    return;
  }
  Result<std::unique_ptr<Resolver>> made = Resolver::create(v->shard, dns);
  if (!made.ok()) {
    v->reply(json_error(made.status().message()));
    return;
  }
  v->resolver = std::move(made).value();
  v->outstanding = names.size();
  for (const std::string& name : names) {
    v->resolver->resolve(name, DnsType::kTxt, [v, name](DnsAnswer dns_answer) {
      switch (dns_answer.error) {
        case DnsError::kNone:
          v->verifier->provide_key(name, joined_txt_records(dns_answer));
          break;
        case DnsError::kTemporary:
          v->verifier->provide_key_error(name, DkimDnsError::kTemporary);
          break;
        default:
          v->verifier->provide_key_error(name, DkimDnsError::kNoRecord);
          break;
      }
      if (--v->outstanding == 0)
        v->answer();
    });
  }
}

void verify(Shard& shard, ControlReply reply, std::string input, const ResolverOptions& dns,
            const std::string& receiver) {
  auto v = std::make_shared<Verification>(shard, std::move(reply), receiver);
  Status st = shard.run_blocking([v, dns, input = std::move(input)] {
    Result<std::string> message = message_of(input);
    if (message.ok()) {
      const DkimMessageParts parts = split_dkim_message(*message);
      v->verifier.emplace(parts.header_block, static_cast<uint64_t>(std::time(nullptr)));
      v->verifier->update_body(parts.body);
      v->verifier->finish_body();
    } else {
      v->error = std::string(message.status().message());
    }
    v->shard.complete_from_lane([v, dns] {
      if (!v->error.empty()) {
        v->reply(json_error(v->error));
        return;
      }
      look_up_keys(v, dns);
    });
  });
  if (!st.ok()) {
    v->reply(json_error("server busy: " + std::string(st.message())));
  }
}

}  // namespace

void add_dkim_commands(std::vector<ControlCommand>& out, const Options& options, Database& db,
                       DkimKeyring& keyring) {
  Database* d = &db;
  DkimKeyring* ring = &keyring;
  out.push_back({"dkim keygen", 2, 3, [d, ring](Shard& s, ControlRequest r, ControlReply reply) {
                   KeyType type = KeyType::kRsa;
                   if (r.args.size() == 3) {
                     if (r.args[2] != "--ed25519") {
                       reply(json_error("unknown option '" + r.args[2] + "' (only --ed25519)"));
                       return;
                     }
                     type = KeyType::kEd25519;
                   }
                   on_lane(s, std::move(reply),
                           [d, ring, domain = lower(r.args[0]), selector = lower(r.args[1]), type] {
                             return keygen(*d, *ring, domain, selector, type);
                           });
                 }});
  out.push_back({"dkim list", 0, 0, [d](Shard& s, ControlRequest, ControlReply reply) {
                   on_lane(s, std::move(reply), [d] { return list_keys(*d); });
                 }});
  out.push_back({"dkim del", 2, 2, [d, ring](Shard& s, ControlRequest r, ControlReply reply) {
                   on_lane(s, std::move(reply),
                           [d, ring, domain = lower(r.args[0]), selector = lower(r.args[1])] {
                             Status st = delete_dkim_key(*d, domain, selector);
                             if (st.ok())
                               st = reload(*d, *ring);
                             return st.ok() ? std::string("{\"ok\":true}")
                                            : json_error(st.message());
                           });
                 }});
  out.push_back({"dkim sign", 0, 1, [ring](Shard& s, ControlRequest r, ControlReply reply) {
                   std::string domain;
                   if (!r.args.empty()) {
                     constexpr std::string_view kOption = "--domain=";
                     if (r.args[0].rfind(kOption, 0) != 0 || r.args[0].size() == kOption.size()) {
                       reply(
                           json_error("unknown option '" + r.args[0] + "' (only --domain=DOMAIN)"));
                       return;
                     }
                     domain = lower(std::string_view(r.args[0]).substr(kOption.size()));
                   }
                   on_lane(s, std::move(reply),
                           [keys = ring->get(), input = std::move(r.input), domain]() mutable {
                             return sign(*keys, input, std::move(domain));
                           });
                 }});
  ResolverOptions dns;
  dns.servers = options.relay.dns_servers;
  dns.timeout_ms = options.relay.dns_timeout_ms;
  const std::string receiver = options.server.hostname;
  out.push_back(
      {"dkim verify", 0, 0, [dns, receiver](Shard& s, ControlRequest r, ControlReply reply) {
         verify(s, std::move(reply), std::move(r.input), dns, receiver);
       }});
}

}  // namespace rm
