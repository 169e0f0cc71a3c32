// Options: the whole server configuration, with every default in one place.
//
// The JSON config file mirrors this struct: each nested struct is a JSON object and each
// field a key of the same name (`runtime.shards`, `listeners.smtp.port`, ...). A key that
// is absent keeps the default written here, so an empty file — or no file — is a complete
// configuration. Thread-safety: a plain value, copied to each shard at start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rm {

struct ListenerOptions {
  bool enabled = true;
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint32_t port = 0;                  // 1..65535; 0 lets the kernel choose (tests)
};

struct RuntimeOptions {
  uint32_t shards = 0;                         // reactor threads; 0 = one per CPU we may run on
  bool pin_threads = true;                     // pin shard N to the Nth allowed CPU
  uint32_t ring_entries = 1024;                // submission queue entries per shard
  uint32_t cq_entries = 16384;                 // completion queue entries (never overflows)
  uint32_t recv_buffer_count = 1024;           // provided buffers per shard (a power of two)
  uint32_t recv_buffer_size = 16384;           // bytes per provided buffer
  uint32_t cross_shard_queue_capacity = 4096;  // tasks per ordered shard pair
  uint32_t blocking_queue_capacity = 4096;     // jobs waiting for a shard's blocking lane
  uint32_t timer_tick_ms = 10;                 // deadline granularity
  uint32_t shutdown_drain_ms = 10000;          // time open sessions get to finish on SIGTERM
};

struct LogOptions {
  std::string level = "info";  // debug, info, warn, error
  std::string file;            // "" = stderr
};

struct LimitOptions {
  uint32_t connections_max = 20000;            // per server, all listeners together
  uint32_t input_buffer_bytes_max = 65536;     // unparsed input held per connection
  uint32_t output_buffer_bytes_max = 4194304;  // unsent output held per connection
};

struct ListenersOptions {
  ListenerOptions smtp{true, "127.0.0.1", 2525};         // MX (port 25 in production)
  ListenerOptions submission{true, "127.0.0.1", 2587};   // STARTTLS (587)
  ListenerOptions submissions{true, "127.0.0.1", 2465};  // implicit TLS (465)
  ListenerOptions imap{true, "127.0.0.1", 2143};         // STARTTLS (143)
  ListenerOptions imaps{true, "127.0.0.1", 2993};        // implicit TLS (993)
  ListenerOptions pop3{true, "127.0.0.1", 2110};         // STARTTLS (110)
  ListenerOptions pop3s{true, "127.0.0.1", 2995};        // implicit TLS (995)
};

struct ServerOptions {
  std::string hostname = "localhost";                      // name in greetings and Received
  std::vector<std::string> local_domains = {"localhost"};  // domains delivered here
};

struct SmtpOptions {
  uint32_t message_bytes_max = 52428800;    // SIZE, announced and enforced (552 5.3.4)
  uint32_t recipients_max = 1000;           // per message (452 4.5.3)
  uint32_t errors_max = 20;                 // refused commands before 421 and close
  uint32_t connections_per_ip_max = 50;     // simultaneous sessions from one client (421)
  uint32_t line_bytes_max = 2048;           // command line, CRLF included (500 5.5.2)
  uint32_t greeting_delay_ms = 0;           // wait before 220; input meanwhile: 554 (early talker)
  uint32_t command_timeout_ms = 300000;     // RFC 5321 §4.5.3.2: 5 minutes
  uint32_t data_timeout_ms = 180000;        // between DATA blocks: 3 minutes
  std::string bare_line_policy = "reject";  // bare CR/LF in DATA or commands: reject, normalize
  bool vrfy_enabled = false;
  bool helo_required = false;               // refuse MAIL before HELO/EHLO (503 5.5.1)
  bool auth_plaintext_allowed = false;      // offer AUTH without TLS (else only after STARTTLS)
  uint32_t auth_failures_before_delay = 3;  // per client IP and window: then replies slow down
  uint32_t auth_failures_max = 10;          // per client IP and window: then 421 and close
  uint32_t auth_failure_window_ms = 600000;
  bool submission_hide_client = true;  // submission ports: no client IP/HELO in Received
  std::vector<std::string> trusted_networks = {"127.0.0.0/8", "::1/128"};  // may relay
  uint32_t body_chunk_bytes = 1048576;  // bodies are written in chunks of this size
};

// IMAP and POP3.
struct AccessOptions {
  bool plaintext_auth_allowed = false;      // LOGIN/USER/AUTH before TLS (else only after it)
  uint32_t imap_idle_timeout_ms = 1800000;  // RFC 9051 §5.4: at least 30 minutes
  uint32_t imap_login_timeout_ms = 60000;   // until the client has logged in
  uint32_t pop3_timeout_ms = 600000;        // RFC 1939 §3: at least 10 minutes
  uint32_t append_bytes_max = 52428800;     // APPENDLIMIT
  uint32_t errors_max = 20;                 // bad commands before the session is closed
  uint32_t login_cache_ms = 600000;         // a login that passed skips Argon2id this long; 0: off
};

struct StoreOptions {
  // Free space the store keeps in reserve, as Postfix's queue_minfree: below it (plus one
  // largest message and a half) mail is refused with 452 4.3.1.
  uint32_t min_free_mib = 100;
  // Bodies up to this size are written with their envelope into the database (one synced
  // write); larger ones go to the body segment files (written once, one more fdatasync).
  uint32_t inline_body_bytes_max = 16384;
  // A body segment file is closed for writing once it holds about this much.
  uint32_t body_segment_mib = 128;
};

struct QueueOptions {
  bool deliver = true;                 // false: accept and keep everything queued (hold)
  uint32_t retry_initial_ms = 300000;  // first retry after a temporary failure: 5 minutes
  uint32_t retry_max_ms = 14400000;    // the back-off doubles up to this: 4 hours
  uint32_t lifetime_ms = 432000000;    // then the message bounces: 5 days
  uint32_t delay_warning_ms = 0;   // a "delayed" DSN after this long; 0: none (Postfix's default)
  uint32_t deliveries_max = 1000;  // messages in delivery at once, per shard
  uint32_t bounce_returned_bytes_max = 50000;  // of the original in a bounce (RET=FULL)
};

// Outbound SMTP: where mail for other domains goes and how.
struct RelayOptions {
  // "domain=host:port" (or "*=host:port" for every other domain): a static route, before
  // any smarthost or MX lookup. host may be a name, an IPv4 or a [bracketed] IPv6 address.
  std::vector<std::string> transport_map;
  std::string smarthost;       // "host:port": all other mail goes there ("" = MX)
  std::string smarthost_user;  // AUTH to the smarthost (over TLS only)
  std::string smarthost_password;
  std::string tls = "opportunistic";              // none, opportunistic, required
  std::vector<std::string> tls_required_domains;  // these get "required" whatever tls says
  std::string dns_servers;                        // "ip[:port],...": "" = /etc/resolv.conf
  uint32_t dns_timeout_ms = 2000;  // a DNS query's first try (later rounds wait longer)
  uint32_t mx_port = 25;           // the port MX hosts are reached on
  uint32_t connect_timeout_ms = 30000;
  uint32_t destination_concurrency_max = 20;  // connections at once per destination, per shard
  uint32_t connection_idle_ms = 5000;  // a finished connection waits this long for the next message
  std::string helo_name;               // "" = server.hostname
};

// The Sender Rewriting Scheme (proto/srs/srs.h), as postsrsd does it for Postfix: when a
// message to one of our addresses is forwarded elsewhere (an alias to a remote address) and
// its envelope sender is not in one of our domains, the copy goes out from
// SRS0=HASH=TT=sender.domain=sender@DOMAIN, so that SPF at the next hop passes; a bounce to
// such an address is accepted when its hash and age check out and goes back to the sender.
struct SrsConfigOptions {
  bool enabled = true;
  // The first signs, all are accepted (rotation: put the new one first). Empty: one secret
  // generated at first start and kept in DATA/srs.secret (as postsrsd makes its secret file).
  std::vector<std::string> secrets;
  // In SRS addresses; "" = the first server.local_domains entry but "localhost", else
  // server.hostname. Needs an MX (or A) record to this server and SPF allowing it.
  std::string domain;
  uint32_t max_age_days = 21;  // bounces to older SRS addresses are refused
};

// DKIM (keys live in the store: ringmail dkim keygen).
struct DkimOptions {
  bool sign_outbound = true;   // sign relayed mail whose From (or sender) domain has keys
  bool verify_inbound = true;  // verify the signatures of mail from the MX listener
};

// Checks of inbound mail: every message on the MX listener from a client that is neither in
// smtp.trusted_networks nor authenticated. Results go into Authentication-Results (and
// Received-SPF); the policies below say what else happens.
struct SpfOptions {
  bool verify_inbound = true;
  bool check_helo = true;          // the HELO identity too (RFC 7208 §2.3), besides MAIL FROM
  std::string fail = "mark";       // MAIL FROM fail: mark (headers only) or reject (550 5.7.23)
  uint32_t time_limit_ms = 20000;  // per check (RFC 7208 §4.6.4: at least 20 s)
};

struct DmarcOptions {
  bool verify_inbound = true;
  std::string reject = "reject";          // p=reject failing: reject (550 5.7.1), quarantine, mark
  std::string quarantine = "quarantine";  // p=quarantine failing: quarantine, mark
  std::string unclear_from = "reject";    // no From, several, or unreadable: reject, mark
  std::string quarantine_mailbox = "Junk";  // where quarantined mail goes for local accounts
  std::string public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
};

struct TlsOptions {
  std::string certificate_file;  // PEM; "" = a self-signed one made in DATA/tls/ at first start
  std::string key_file;          // PEM private key for certificate_file
};

struct Options {
  ServerOptions server;
  ListenersOptions listeners;
  SmtpOptions smtp;
  AccessOptions access;
  QueueOptions queue;
  RelayOptions relay;
  SrsConfigOptions srs;
  DkimOptions dkim;
  SpfOptions spf;
  DmarcOptions dmarc;
  TlsOptions tls;
  StoreOptions store;
  RuntimeOptions runtime;
  LimitOptions limits;
  LogOptions log;
};

}  // namespace rm
