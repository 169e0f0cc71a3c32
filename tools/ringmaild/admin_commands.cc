#include "tools/ringmaild/admin_commands.h"

#include <algorithm>
#include <ctime>
#include <memory>

#include "core/base/base64.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "store/account/directory.h"
#include "store/account/password.h"
#include "store/mailbox/mailbox_store.h"
#include "store/queue/queue_store.h"
#include "tools/ringmaild/admin_lane.h"
#include "tools/ringmaild/dkim_commands.h"
#include "tools/ringmaild/mail_auth/spf_check.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {
namespace {

constexpr size_t kHeaderBytesMax = 65536;

std::string ok_json() { return "{\"ok\":true}"; }

std::optional<uint64_t> parse_uint(const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(text);
}

std::string status_json(const Status& s) { return s.ok() ? ok_json() : json_error(s.message()); }

std::string iso_time(int64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  tm parts;
  gmtime_r(&t, &parts);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

std::string_view state_name(Recipient::State state) {
  switch (state) {
    case Recipient::State::kPending: return "pending";
    case Recipient::State::kDelivered: return "delivered";
    case Recipient::State::kFailed: return "failed";
    case Recipient::State::kDeferred: return "deferred";
  }
  return "pending";
}

std::string summary_json(const Envelope& e) {
  std::string recipients;
  for (const Recipient& r : e.recipients) {
    recipients += (recipients.empty() ? "" : ",") + r.address;
  }
  return "{\"id\":" + json_quote(e.id.text()) + ",\"size\":" + std::to_string(e.body_bytes) +
         ",\"arrived\":" + json_quote(iso_time(e.received_unix_ms)) +
         ",\"sender\":" + json_quote(e.sender.empty() ? "<>" : e.sender) +
         ",\"recipients\":" + json_quote(recipients) + ",\"held\":" + (e.held ? "true" : "false") +
         ",\"attempts\":" + std::to_string(e.attempts) + "}";
}

std::string detail_json(const Envelope& e, std::string_view headers) {
  std::string recipients = "[";
  for (const Recipient& r : e.recipients) {
    recipients += (recipients.size() > 1 ? "," : "");
    recipients += "{\"address\":" + json_quote(r.address) + ",\"state\":" + json_quote(state_name(r.state)) +
                  ",\"notify\":" + std::to_string(r.notify) + ",\"orcpt\":" + json_quote(r.orcpt) +
                  ",\"last_reply\":" + json_quote(r.last_reply) + "}";
  }
  recipients += "]";
  return "{\"ok\":true,\"id\":" + json_quote(e.id.text()) + ",\"size\":" + std::to_string(e.body_bytes) +
         ",\"arrived\":" + json_quote(iso_time(e.received_unix_ms)) +
         ",\"sender\":" + json_quote(e.sender.empty() ? "<>" : e.sender) + ",\"recipients\":" + recipients +
         ",\"client\":" + json_quote(e.client_address) + ",\"helo\":" + json_quote(e.helo) +
         ",\"listener\":" + json_quote(e.listener) + ",\"auth_user\":" + json_quote(e.auth_user) +
         ",\"envid\":" + json_quote(e.envid) + ",\"smtputf8\":" + (e.smtputf8 ? "true" : "false") +
         ",\"held\":" + (e.held ? "true" : "false") + ",\"headers\":" + json_quote(headers) + "}";
}

std::string queue_list(Database& db) {
  Result<std::vector<Envelope>> all = QueueStore::list_queue(db);
  if (!all.ok()) {
    return json_error(all.status().message());
  }
  std::string rows;
  for (const Envelope& e : *all) {
    rows += (rows.empty() ? "" : ",") + summary_json(e);
  }
  return "{\"ok\":true,\"count\":" + std::to_string(all->size()) + ",\"messages\":[" + rows + "]}";
}

// Loads a message by its queue id text and answers with `render(envelope, body)`.
template <typename Render>
std::string with_message(Database& db, BodyStore& bodies, const std::string& text, Render render) {
  std::optional<QueueId> id = parse_queue_id(text);
  if (!id) {
    return json_error("'" + text + "' is not a queue id");
  }
  Result<Envelope> env = QueueStore::load_envelope(db, *id);
  if (!env.ok()) {
    return json_error(env.status().message());
  }
  Result<std::string> body = QueueStore::read_body(db, bodies, *env);
  if (!body.ok()) {
    return json_error(body.status().message());
  }
  return render(*env, *body);
}

std::string queue_show(Database& db, BodyStore& bodies, const std::string& text) {
  return with_message(db, bodies, text, [](const Envelope& env, const std::string& body) {
    const size_t end = body.find("\r\n\r\n");
    const size_t header_bytes = std::min(end == std::string::npos ? body.size() : end + 2, kHeaderBytesMax);
    return detail_json(env, std::string_view(body).substr(0, header_bytes));
  });
}

std::string queue_body(Database& db, BodyStore& bodies, const std::string& text) {
  return with_message(db, bodies, text, [](const Envelope&, const std::string& body) {
    return "{\"ok\":true,\"size\":" + std::to_string(body.size()) + ",\"body\":\"" + base64_encode(body) + "\"}";
  });
}

template <typename Fn>
std::string with_queue_id(const std::string& text, Fn fn) {
  std::optional<QueueId> id = parse_queue_id(text);
  return id ? status_json(fn(*id)) : json_error("'" + text + "' is not a queue id");
}

void add_queue_commands(std::vector<ControlCommand>& out, Database& db, BodyStore& bodies,
                        DeliveryService& delivery) {
  Database* d = &db;
  BodyStore* b = &bodies;
  DeliveryService* dl = &delivery;
  out.push_back({"queue list", 0, 0, [d](Shard& s, ControlRequest, ControlReply reply) {
                   on_lane(s, std::move(reply), [d] { return queue_list(*d); });
                 }});
  out.push_back({"queue show", 1, 1, [d, b](Shard& s, ControlRequest r, ControlReply reply) {
                   on_lane(s, std::move(reply), [d, b, id = r.args[0]] { return queue_show(*d, *b, id); });
                 }});
  out.push_back({"queue body", 1, 1, [d, b](Shard& s, ControlRequest r, ControlReply reply) {
                   on_lane(s, std::move(reply), [d, b, id = r.args[0]] { return queue_body(*d, *b, id); });
                 }});
  out.push_back({"queue delete", 1, 1, [d, b](Shard& s, ControlRequest r, ControlReply reply) {
                   on_lane(s, std::move(reply), [d, b, id = r.args[0]] {
                     return with_queue_id(id, [d, b](QueueId q) { return QueueStore::delete_message(*d, *b, q); });
                   });
                 }});
  for (bool hold : {true, false}) {
    out.push_back({hold ? "queue hold" : "queue release", 1, 1,
                   [d, hold, dl](Shard& s, ControlRequest r, ControlReply reply) {
                     on_lane(s, std::move(reply), [d, hold, id = r.args[0]] {
                       return with_queue_id(id, [d, hold](QueueId q) { return QueueStore::set_held(*d, q, hold); });
                     });
                     if (!hold) {
                       if (std::optional<QueueId> q = parse_queue_id(r.args[0])) {
                         dl->flush(*q);  // a released message is tried at once
                       }
                     }
                   }});
  }
  out.push_back({"queue flush", 0, 1, [dl](Shard&, ControlRequest r, ControlReply reply) {
                   std::optional<QueueId> id;
                   if (!r.args.empty()) {
                     id = parse_queue_id(r.args[0]);
                     if (!id) {
                       reply(json_error("'" + r.args[0] + "' is not a queue id"));
                       return;
                     }
                   }
                   dl->flush(id);
                   reply(ok_json());
                 }});
}

std::string mailbox_list(Database& db, const std::string& account, const std::string& mailbox) {
  Result<std::optional<MailboxInfo>> info = MailboxStore::mailbox(db, account, mailbox);
  if (!info.ok()) {
    return json_error(info.status().message());
  }
  if (!info->has_value()) {
    return json_error("no mailbox " + mailbox + " for " + account);
  }
  Result<std::vector<MessageEntry>> entries = MailboxStore::messages(db, account, mailbox);
  if (!entries.ok()) {
    return json_error(entries.status().message());
  }
  std::string rows;
  for (const MessageEntry& e : *entries) {
    rows += (rows.empty() ? "" : ",") + std::string("{\"uid\":") + std::to_string(e.uid) +
            ",\"size\":" + std::to_string(e.size) + ",\"date\":" + json_quote(iso_time(e.internal_date_ms)) +
            ",\"flags\":" + std::to_string(e.flags) + ",\"queue_id\":" + json_quote(QueueId{e.queue_id}.text()) + "}";
  }
  const MailboxInfo& m = **info;
  return "{\"ok\":true,\"uidvalidity\":" + std::to_string(m.uidvalidity) + ",\"uidnext\":" +
         std::to_string(m.uidnext) + ",\"highestmodseq\":" + std::to_string(m.highest_modseq) +
         ",\"count\":" + std::to_string(m.messages) + ",\"messages\":[" + rows + "]}";
}

std::string mailbox_cat(Database& db, BodyStore& bodies, const std::string& account,
                        const std::string& uid_text) {
  const std::optional<uint64_t> uid = parse_uint(uid_text);
  Result<std::vector<MessageEntry>> entries = MailboxStore::messages(db, account, kInbox);
  if (!entries.ok()) {
    return json_error(entries.status().message());
  }
  for (const MessageEntry& e : *entries) {
    if (uid && e.uid == *uid) {
      Result<std::string> body = MailboxStore::read_body(bodies, e);
      if (!body.ok()) {
        return json_error(body.status().message());
      }
      return "{\"ok\":true,\"size\":" + std::to_string(body->size()) + ",\"body\":\"" +
             base64_encode(*body) + "\"}";
    }
  }
  return json_error("no message with uid " + uid_text + " in INBOX of " + account);
}

void add_mailbox_commands(std::vector<ControlCommand>& out, Database& db, BodyStore& bodies) {
  Database* d = &db;
  BodyStore* b = &bodies;
  out.push_back({"mailbox list", 1, 2, [d](Shard& s, ControlRequest r, ControlReply reply) {
                   std::string mailbox = r.args.size() > 1 ? r.args[1] : std::string(kInbox);
                   on_lane(s, std::move(reply), [d, account = lower_ascii(r.args[0]), mailbox] {
                     return mailbox_list(*d, account, mailbox);
                   });
                 }});
  out.push_back({"mailbox body", 2, 2, [d, b](Shard& s, ControlRequest r, ControlReply reply) {
                   on_lane(s, std::move(reply), [d, b, account = lower_ascii(r.args[0]), uid = r.args[1]] {
                     return mailbox_cat(*d, *b, account, uid);
                   });
                 }});
}

// Runs a directory change on the lane, then hands the reloaded directory to every shard.
template <typename Change>
void change_directory(Shard& shard, Database& db, SmtpService& smtp, ControlReply reply, Change change) {
  auto shared_reply = std::make_shared<ControlReply>(std::move(reply));
  Shard* s = &shard;
  Database* d = &db;
  SmtpService* svc = &smtp;
  Status st = shard.run_blocking([s, d, svc, shared_reply, change = std::move(change)]() mutable {
    Status result = change(*d);
    Result<std::shared_ptr<const Directory>> dir = load_directory(*d);
    s->complete_from_lane([svc, shared_reply, result, dir = std::move(dir)]() mutable {
      if (dir.ok()) {
        svc->publish_directory(*dir);
      }
      (*shared_reply)(status_json(result));
    });
  });
  if (!st.ok()) {
    (*shared_reply)(json_error("server busy: " + std::string(st.message())));
  }
}

void add_account_commands(std::vector<ControlCommand>& out, Database& db, SmtpService& smtp) {
  Database* d = &db;
  SmtpService* svc = &smtp;
  out.push_back({"domain add", 1, 1, [d, svc](Shard& s, ControlRequest r, ControlReply reply) {
                   change_directory(s, *d, *svc, std::move(reply), [domain = lower_ascii(r.args[0])](Database& db_) {
                     return add_domain(db_, domain);
                   });
                 }});
  out.push_back({"domain del", 1, 1, [d, svc](Shard& s, ControlRequest r, ControlReply reply) {
                   change_directory(s, *d, *svc, std::move(reply), [domain = lower_ascii(r.args[0])](Database& db_) {
                     return delete_domain(db_, domain);
                   });
                 }});
  for (bool replace : {false, true}) {
    out.push_back({replace ? "user passwd" : "user add", 1, 1,
                   [d, svc, replace](Shard& s, ControlRequest r, ControlReply reply) {
                     change_directory(s, *d, *svc, std::move(reply),
                                      [address = lower_ascii(r.args[0]), password = std::move(r.input), replace](Database& db_) {
                                        Result<std::string> hash = hash_password(password);
                                        return hash.ok() ? put_user(db_, address, *hash, replace) : hash.status();
                                      });
                   }});
  }
  out.push_back({"user del", 1, 1, [d, svc](Shard& s, ControlRequest r, ControlReply reply) {
                   change_directory(s, *d, *svc, std::move(reply), [address = lower_ascii(r.args[0])](Database& db_) {
                     return delete_user(db_, address);
                   });
                 }});
  out.push_back({"alias add", 2, 1000, [d, svc](Shard& s, ControlRequest r, ControlReply reply) {
                   std::vector<std::string> targets;
                   for (size_t i = 1; i < r.args.size(); ++i) targets.push_back(lower_ascii(r.args[i]));
                   change_directory(s, *d, *svc, std::move(reply), [address = lower_ascii(r.args[0]), targets](Database& db_) {
                     return put_alias(db_, address, targets);
                   });
                 }});
  out.push_back({"alias del", 1, 1, [d, svc](Shard& s, ControlRequest r, ControlReply reply) {
                   change_directory(s, *d, *svc, std::move(reply), [address = lower_ascii(r.args[0])](Database& db_) {
                     return delete_alias(db_, address);
                   });
                 }});
  out.push_back({"alias list", 0, 0, [svc](Shard& s, ControlRequest, ControlReply reply) {
                   std::vector<std::pair<std::string, std::string>> rows;
                   for (const auto& [address, targets] : svc->directory(s).aliases) {
                     std::string joined;
                     for (const std::string& t : targets) joined += (joined.empty() ? "" : ", ") + t;
                     rows.emplace_back(address, joined);
                   }
                   std::sort(rows.begin(), rows.end());
                   std::string json;
                   for (const auto& [address, joined] : rows) {
                     json += (json.empty() ? "" : ",") + std::string("{\"alias\":") + json_quote(address) +
                             ",\"targets\":" + json_quote(joined) + "}";
                   }
                   reply("{\"ok\":true,\"aliases\":[" + json + "]}");
                 }});
  for (const char* name : {"user delivery", "domain delivery"}) {
    const bool domain = std::string_view(name) == "domain delivery";
    out.push_back({name, 2, 2, [d, svc, domain](Shard& s, ControlRequest r, ControlReply reply) {
                     const std::string target = (domain ? "@" : "") + lower_ascii(r.args[0]);
                     change_directory(s, *d, *svc, std::move(reply), [target, spec = r.args[1]](Database& db_) {
                       return put_delivery(db_, target, spec);
                     });
                   }});
  }
  for (bool users : {true, false}) {
    out.push_back({users ? "user list" : "domain list", 0, 0, [svc, users](Shard& s, ControlRequest, ControlReply reply) {
                     const Directory& dir = svc->directory(s);
                     std::vector<std::string> names;
                     if (users) {
                       for (const auto& [address, hash] : dir.users) names.push_back(address);
                     } else {
                       names.assign(dir.domains.begin(), dir.domains.end());
                     }
                     std::sort(names.begin(), names.end());
                     std::string rows;
                     for (const std::string& n : names) {
                       rows += (rows.empty() ? "" : ",") + std::string("{\"name\":") + json_quote(n) + "}";
                     }
                     reply("{\"ok\":true,\"" + std::string(users ? "users" : "domains") + "\":[" + rows + "]}");
                   }});
  }
}

// The control reply is JSON: bytes past ASCII (a client's 8-bit HELO) become '?'.
std::string ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<unsigned char>(c) >= 0x80 ? '?' : c;
  }
  return out;
}

std::string spf_json(const SpfCheck& c) {
  const spf::Outcome& o = c.outcome;
  return "{\"ok\":true,\"result\":" + json_quote(spf::result_name(o.result)) +
         ",\"explanation\":" + json_quote(ascii(o.explanation)) +
         ",\"mechanism\":" + json_quote(ascii(o.mechanism)) +
         ",\"domain\":" + json_quote(ascii(o.domain)) + ",\"identity\":" + json_quote(o.identity) +
         ",\"problem\":" + json_quote(ascii(o.problem)) +
         ",\"dns_queries\":" + std::to_string(c.queries) +
         ",\"received_spf\":" + json_quote("Received-SPF: " + ascii(c.received_spf)) + "}";
}

// spf check IP SENDER HELO: SENDER "" or "<>" checks the HELO identity.
void add_spf_commands(std::vector<ControlCommand>& out, const Options& options) {
  ResolverOptions dns;
  dns.servers = options.relay.dns_servers;
  dns.timeout_ms = options.relay.dns_timeout_ms;
  const std::string receiver = options.server.hostname;
  out.push_back({"spf check", 3, 3, [dns, receiver](Shard& s, ControlRequest r, ControlReply reply) {
                   const std::optional<IpAddress> ip = parse_ip(r.args[0]);
                   if (!ip) {
                     reply(json_error("'" + r.args[0] + "' is not an IP address"));
                     return;
                   }
                   Result<std::unique_ptr<Resolver>> made = Resolver::create(s, dns);
                   if (!made.ok()) {
                     reply(json_error(made.status().message()));
                     return;
                   }
                   std::shared_ptr<Resolver> resolver = std::move(made).value();
                   const std::string sender = r.args[1] == "<>" ? "" : r.args[1];
                   Shard* shard = &s;
                   SpfCheckOptions check_options;
                   check_options.receiver = receiver;
                   check_spf(s, *resolver, *ip, sender, r.args[2], check_options,
                             [resolver, reply, shard](SpfCheck check) mutable {
                               reply(spf_json(check));
                               // Not from inside its own call chain: later, on the shard.
                               shard->defer([dead = std::move(resolver)] {});
                             });
                 }});
}

}  // namespace

std::vector<ControlCommand> admin_commands(const Options& options, Database& db, BodyStore& bodies,
                                           SmtpService& smtp, DeliveryService& delivery) {
  std::vector<ControlCommand> out;
  add_spf_commands(out, options);
  add_queue_commands(out, db, bodies, delivery);
  add_mailbox_commands(out, db, bodies);
  add_account_commands(out, db, smtp);
  add_dkim_commands(out, options, db, delivery.dkim_keys());
  return out;
}

}  // namespace rm
