#include "tools/ringmaild/server.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>

#include "core/base/base64.h"
#include "core/base/log.h"
#include "core/control/control_service.h"
#include "store/account/dkim_keys.h"
#include "core/runtime/runtime.h"
#include "store/db/database.h"
#include "store/mailbox/mailbox_store.h"
#include "store/queue/queue_store.h"
#include "tls/certificate.h"
#include "tls/thread_caches.h"
#include "tls/tls_context.h"
#include "tools/ringmaild/access/access_service.h"
#include "tools/ringmaild/admin_commands.h"
#include "tools/ringmaild/delivery/delivery_service.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {
namespace {

Status make_dirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') {
      continue;
    }
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) {
      return Status::FromErrno("mkdir " + prefix, errno);
    }
  }
  return Status::Ok();
}

// The configured certificate, or a self-signed one made in DATA/tls/ on first start so that
// STARTTLS and implicit TLS work at once.
Result<std::shared_ptr<TlsContext>> open_tls(const Options& options, const ServerPaths& paths) {
  std::string cert = options.tls.certificate_file;
  std::string key = options.tls.key_file;
  if (cert.empty() != key.empty()) {
    return Status::InvalidArgument("tls.certificate_file and tls.key_file go together");
  }
  if (cert.empty()) {
    RM_RETURN_IF_ERROR(make_dirs(paths.data_dir + "/tls"));
    cert = paths.data_dir + "/tls/cert.pem";
    key = paths.data_dir + "/tls/key.pem";
    RM_RETURN_IF_ERROR(ensure_self_signed(cert, key, options.server.hostname));
  }
  return TlsContext::create_server(cert, key);
}

// One secret a line; blank lines and trailing spaces are ignored.
Result<std::vector<std::string>> read_srs_secrets(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::FromErrno("open " + path, errno);
  }
  std::vector<std::string> secrets;
  for (std::string line; std::getline(in, line) && secrets.size() < srs::kSecretsMax;) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (!line.empty()) {
      secrets.push_back(line);
    }
  }
  if (secrets.empty()) {
    return Status::InvalidArgument(path + " holds no SRS secret");
  }
  return secrets;
}

// DATA/srs.secret: one secret a line, the first signs (like postsrsd's secret file). Made
// with 32 random bytes on first start, so that forwarding works without configuration and the
// addresses stay valid across restarts.
Result<std::vector<std::string>> srs_secret_file(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0 || errno != ENOENT) {
    return read_srs_secrets(path);
  }
  unsigned char bytes[32];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    return Status::FromErrno("getrandom", errno);
  }
  const std::string secret =
      base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::FromErrno("create " + tmp, errno);
  }
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno("write " + path, written ? errno : saved);
  }
  return std::vector<std::string>{secret};
}

// The SRS policy (null when srs.enabled is false).
Result<std::shared_ptr<const SrsPolicy>> open_srs(const Options& options,
                                                  const ServerPaths& paths) {
  if (!options.srs.enabled) {
    return std::shared_ptr<const SrsPolicy>();
  }
  std::vector<std::string> secrets = options.srs.secrets;
  if (secrets.empty()) {
    Result<std::vector<std::string>> from_file = srs_secret_file(paths.data_dir + "/srs.secret");
    if (!from_file.ok()) {
      return from_file.status();
    }
    secrets = std::move(*from_file);
  }
  srs::SrsOptions srs_options;
  srs_options.max_age_days = options.srs.max_age_days;
  Result<srs::Srs> srs = srs::Srs::create(std::move(secrets), srs_options);
  if (!srs.ok()) {
    return srs.status();
  }
  return std::make_shared<const SrsPolicy>(
      std::move(*srs),
      srs_domain(options.srs.domain, options.server.local_domains, options.server.hostname),
      options.server.local_domains);
}

}  // namespace

Result<ServerPaths> prepare_data_dir(const std::string& data_dir) {
  if (data_dir.empty()) {
    return Status::InvalidArgument("--data needs a directory");
  }
  RM_RETURN_IF_ERROR(make_dirs(data_dir));
  if (::access(data_dir.c_str(), W_OK | X_OK) != 0) {
    return Status::FromErrno("data directory " + data_dir + " is not writable", errno);
  }
  ServerPaths paths;
  paths.data_dir = data_dir;
  paths.control_socket = data_dir + "/control.sock";
  return paths;
}

Status run_server(const Options& options, const ServerPaths& paths) {
  Result<std::unique_ptr<Database>> db = Database::open(paths.data_dir + "/store");
  if (!db.ok()) {
    return db.status();
  }
  (*db)->set_min_free_bytes((uint64_t{options.store.min_free_mib} << 20) +
                            uint64_t{options.smtp.message_bytes_max} * 3 / 2);
  Result<std::unique_ptr<BodyStore>> bodies = BodyStore::open(paths.data_dir + "/bodies");
  if (!bodies.ok()) {
    return bodies.status();
  }
  // Registers the segments queued messages and mailboxes use; removes what a crash left
  // unreferenced.
  Result<std::unordered_map<uint64_t, uint64_t>> mailbox_refs = MailboxStore::segment_refs(**db);
  if (!mailbox_refs.ok()) {
    return mailbox_refs.status();
  }
  RM_RETURN_IF_ERROR(QueueStore::recover(**db, **bodies, std::move(*mailbox_refs)));
  Result<std::shared_ptr<const Directory>> directory = load_directory(**db);
  if (!directory.ok()) {
    return directory.status();
  }
  Result<std::shared_ptr<TlsContext>> tls = open_tls(options, paths);
  if (!tls.ok()) {
    return tls.status();
  }
  Result<std::shared_ptr<const SrsPolicy>> srs = open_srs(options, paths);
  if (!srs.ok()) {
    return srs.status();
  }
  Runtime runtime(options);
  SmtpService smtp_service(options, runtime, **db, **bodies, *directory, *tls, *srs);
  DeliveryService delivery(options, runtime, **db, **bodies, smtp_service);
  Result<DkimKeySet> dkim_keys = load_dkim_keys(**db);
  if (!dkim_keys.ok()) {
    return dkim_keys.status();
  }
  delivery.dkim_keys().set(std::make_shared<const DkimKeySet>(std::move(dkim_keys).value()));
  AccessService access(options, runtime, **db, **bodies, smtp_service, *tls);
  delivery.set_delivery_observer(
      [&access](Shard& shard, const std::vector<MailboxDelivery>& deliveries) {
        access.delivered(shard, deliveries);
      });
  ControlContext control{&runtime, kRingmailVersion, paths.data_dir, std::time(nullptr),
                         admin_commands(options, **db, **bodies, smtp_service, delivery)};
  runtime.add_listener(ListenerSpec{"control", "", 0, paths.control_socket,
                                    control_service_factory(control), "", false, size_t{1} << 30});

  // Local programs (the sendmail command) speak SMTP here; any local user may submit.
  runtime.add_listener(ListenerSpec{"local", "", 0, paths.data_dir + "/submit.sock",
                                    smtp_service.factory(SmtpPort::kLocal), "", true, 0, 0666});

  const std::string host = options.server.hostname;
  const std::string busy = "421 4.3.2 " + host + " Too many connections, try again later\r\n";
  const struct {
    const char* name;
    const ListenerOptions& listener;
    SmtpPort port;
  } smtp_ports[] = {
      {"smtp", options.listeners.smtp, SmtpPort::kMx},
      {"submission", options.listeners.submission, SmtpPort::kSubmission},
      {"submissions", options.listeners.submissions, SmtpPort::kSubmissions},
  };
  for (const auto& p : smtp_ports) {
    if (p.listener.enabled) {
      // The implicit-TLS port gets no plain-text "busy" line: a TLS client could not read it.
      runtime.add_listener(
          ListenerSpec{p.name, p.listener.address, static_cast<uint16_t>(p.listener.port), "",
                       smtp_service.factory(p.port), p.port == SmtpPort::kSubmissions ? "" : busy});
    }
  }
  // A FETCH or RETR streams whole messages: room for the largest one, and some.
  const size_t access_output_max =
      size_t{std::max(options.smtp.message_bytes_max, options.access.append_bytes_max)} + (8 << 20);
  const struct {
    const char* name;
    const ListenerOptions& listener;
    HandlerFactory factory;
    std::string busy_reply;  // none on implicit-TLS ports: a TLS client could not read it
  } access_ports[] = {
      {"imap", options.listeners.imap, access.imap_factory(false),
       "* BYE " + host + " Too many connections, try again later\r\n"},
      {"imaps", options.listeners.imaps, access.imap_factory(true), ""},
      {"pop3", options.listeners.pop3, access.pop3_factory(false),
       "-ERR [SYS/TEMP] " + host + " Too many connections, try again later\r\n"},
      {"pop3s", options.listeners.pop3s, access.pop3_factory(true), ""},
  };
  for (const auto& p : access_ports) {
    if (p.listener.enabled) {
      runtime.add_listener(ListenerSpec{p.name, p.listener.address,
                                        static_cast<uint16_t>(p.listener.port), "", p.factory,
                                        p.busy_reply, true, access_output_max});
    }
  }
  RuntimeStart how;
  how.on_shard_exit = release_tls_thread_caches;
  RM_RETURN_IF_ERROR(runtime.start(how));
  if (Status started = delivery.start(); !started.ok()) {
    runtime.request_shutdown();
    (void)runtime.wait();
    return started;
  }
  RM_LOG(kInfo, "ready").kv("version", kRingmailVersion).kv("data", paths.data_dir);
  Status status = runtime.wait();
  ::unlink(paths.control_socket.c_str());
  ::unlink((paths.data_dir + "/submit.sock").c_str());
  RM_LOG(kInfo, "stopped").kv("status", status);
  return status;
}

}  // namespace rm
