#include "tools/ringmaild/admin_commands.h"

#include <algorithm>
#include <ctime>
#include <memory>

#include "core/base/base64.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "store/account/directory.h"
#include "store/account/password.h"
#include "store/queue/queue_store.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {
namespace {

constexpr size_t kHeaderBytesMax = 65536;

// Runs `job` (returning the JSON answer) on the shard's blocking lane; answers on the shard.
template <typename Job>
void on_lane(Shard& shard, ControlReply reply, Job job) {
  auto shared_reply = std::make_shared<ControlReply>(std::move(reply));
  Shard* s = &shard;
  Status st = shard.run_blocking([s, shared_reply, job = std::move(job)]() mutable {
    std::string json = job();
    s->complete_from_lane([shared_reply, json = std::move(json)] { (*shared_reply)(json); });
  });
  if (!st.ok()) {
    (*shared_reply)(json_error("server busy: " + std::string(st.message())));
  }
}

std::string ok_json() { return "{\"ok\":true}"; }

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
         ",\"recipients\":" + json_quote(recipients) + ",\"held\":" + (e.held ? "true" : "false") + "}";
}

std::string detail_json(const Envelope& e, std::string_view headers) {
  std::string recipients = "[";
  for (const Recipient& r : e.recipients) {
    recipients += (recipients.size() > 1 ? "," : "");
    recipients += "{\"address\":" + json_quote(r.address) + ",\"state\":" + json_quote(state_name(r.state)) +
                  ",\"notify\":" + std::to_string(r.notify) + ",\"orcpt\":" + json_quote(r.orcpt) + "}";
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

void add_queue_commands(std::vector<ControlCommand>& out, Database& db, BodyStore& bodies) {
  Database* d = &db;
  BodyStore* b = &bodies;
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
                   [d, hold](Shard& s, ControlRequest r, ControlReply reply) {
                     on_lane(s, std::move(reply), [d, hold, id = r.args[0]] {
                       return with_queue_id(id, [d, hold](QueueId q) { return QueueStore::set_held(*d, q, hold); });
                     });
                   }});
  }
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

}  // namespace

std::vector<ControlCommand> admin_commands(Database& db, BodyStore& bodies, SmtpService& smtp) {
  std::vector<ControlCommand> out;
  add_queue_commands(out, db, bodies);
  add_account_commands(out, db, smtp);
  return out;
}

}  // namespace rm
