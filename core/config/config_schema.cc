#include "core/config/config_schema.h"

#include <arpa/inet.h>

#include "core/base/log.h"
#include "core/net/cidr.h"

namespace rm {
namespace {

// ---- value checks ---------------------------------------------------------------------

std::string check_power_of_two(uint32_t value) {
  if (value != 0 && (value & (value - 1)) == 0) {
    return "";
  }
  return std::to_string(value) + " is not a power of two";
}

// Listeners bind to a literal address: resolving a name at start would make the bound
// address depend on DNS.
std::string check_ip_literal(std::string_view value) {
  const std::string text(value);  // inet_pton wants a NUL-terminated string
  unsigned char addr[16];
  if (inet_pton(AF_INET, text.c_str(), addr) == 1 || inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    return "";
  }
  return "'" + text + "' is not an IPv4 or IPv6 literal";
}

// The hostname goes verbatim into greetings and Received headers, and local domains are
// compared with SMTP envelope domains; both must be single protocol tokens. (International
// names are written in their ASCII "xn--" form.)
std::string check_protocol_token(std::string_view value) {
  if (value.empty()) {
    return "must not be empty";
  }
  for (const unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return "'" + std::string(value) + "' must be printable ASCII without spaces";
    }
  }
  return "";
}

// "" (a default computed at start) or a protocol token.
std::string check_optional_token(std::string_view value) {
  return value.empty() ? "" : check_protocol_token(value);
}

// An HMAC key for SRS: what proto/srs accepts (1..1024 bytes).
std::string check_srs_secret(std::string_view value) {
  if (value.empty() || value.size() > 1024) {
    return "an SRS secret must have 1 to 1024 bytes";
  }
  return "";
}

std::string check_bare_line_policy(std::string_view value) {
  return value == "reject" || value == "normalize"
             ? ""
             : "'" + std::string(value) + "' must be reject or normalize";
}

// The choices of a policy option, as the error message lists them.
inline constexpr std::string_view kMarkOrReject[] = {"mark", "reject"};
inline constexpr std::string_view kQuarantineOrMark[] = {"quarantine", "mark"};
inline constexpr std::string_view kRejectQuarantineOrMark[] = {"reject", "quarantine", "mark"};

template <const auto& kChoices>
std::string check_one_of(std::string_view value) {
  std::string list;
  for (std::string_view choice : kChoices) {
    if (value == choice) {
      return "";
    }
    list += (list.empty() ? "" : ", ") + std::string(choice);
  }
  return "'" + std::string(value) + "' must be one of: " + list;
}

// A mailbox that delivery may create: a non-empty printable name without wildcards.
std::string check_mailbox_name(std::string_view value) {
  if (value.empty() || value.size() > 200) {
    return "a mailbox name must have 1 to 200 bytes";
  }
  for (const unsigned char c : value) {
    if (c < 0x20 || c == 0x7f || c == '*' || c == '%' || c == '"' || c == '\\') {
      return "'" + std::string(value) + "' is not a usable mailbox name";
    }
  }
  return "";
}

std::string check_cidr(std::string_view value) {
  return Cidr::parse(value)
             ? ""
             : "'" + std::string(value) + "' is not an address or network (e.g. 10.0.0.0/8)";
}

std::string check_tls_policy(std::string_view value) {
  return value == "none" || value == "opportunistic" || value == "required"
             ? ""
             : "'" + std::string(value) + "' must be none, opportunistic or required";
}

// "domain=host:port" with a port; the host is checked when it is resolved.
std::string check_transport(std::string_view value) {
  const size_t eq = value.find('=');
  const size_t colon = value.rfind(':');
  if (eq == 0 || eq == std::string_view::npos || colon == std::string_view::npos || colon < eq ||
      colon + 1 == value.size() || value.find_first_of(" \t") != std::string_view::npos) {
    return "'" + std::string(value) + "' is not domain=host:port";
  }
  return "";
}

std::string check_host_port(std::string_view value) {
  if (value.empty()) {
    return "";
  }
  const size_t colon = value.rfind(':');
  return colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()
             ? "'" + std::string(value) + "' is not host:port"
             : "";
}

std::string check_log_level(std::string_view value) {
  const Result<LogLevel> level = parse_log_level(value);
  return level.ok() ? "" : std::string(level.status().message());
}

// ---- table builders -------------------------------------------------------------------

// RM_KEY(runtime.shards) expands to the path "runtime.shards" and two accessors (mutable and
// const) for `options.runtime.shards`, so the JSON key can never drift from the C++ member
// name. A builder given a field of the wrong type fails to compile.
// clang-format off
#define RM_KEY(member)                                   \
  #member, [](Options& o) -> auto& { return o.member; }, \
      [](const Options& o) -> auto& { return o.member; }
// clang-format on

constexpr ConfigField Section(std::string_view path) {
  return {path, SectionField{}};
}

template <typename Get, typename CGet>
constexpr ConfigField Bool(std::string_view path, Get get, CGet cget) {
  return {path, BoolField{{get, cget}}};
}

template <typename Get, typename CGet>
constexpr ConfigField Uint32(std::string_view path, Get get, CGet cget, uint32_t min, uint32_t max,
                             Uint32Check check = nullptr) {
  return {path, Uint32Field{{get, cget}, min, max, check}};
}

template <typename Get, typename CGet>
constexpr ConfigField String(std::string_view path, Get get, CGet cget,
                             StringCheck check = nullptr) {
  return {path, StringField{{get, cget}, check}};
}

template <typename Get, typename CGet>
constexpr ConfigField StringList(std::string_view path, Get get, CGet cget,
                                 StringCheck item_check = nullptr) {
  return {path, StringListField{{get, cget}, item_check}};
}

// Every listener has the same three keys. Port 0 lets the kernel choose (tests use it).
// clang-format off
#define RM_LISTENER(name)                                       \
  Section("listeners." #name),                                  \
      Bool(RM_KEY(listeners.name.enabled)),                     \
      String(RM_KEY(listeners.name.address), check_ip_literal), \
      Uint32(RM_KEY(listeners.name.port), 0, 65535)
// clang-format on

// ---- the table ------------------------------------------------------------------------
//
// Ranges are inclusive. Where a bound is not forced by the kernel or the protocol, it is a
// sanity limit that catches a typo (an extra zero) before it becomes a memory bill.
constexpr ConfigField kSchema[] = {
    Section("server"),
    String(RM_KEY(server.hostname), check_protocol_token),
    StringList(RM_KEY(server.local_domains), check_protocol_token),

    Section("listeners"),
    RM_LISTENER(smtp),
    RM_LISTENER(submission),
    RM_LISTENER(submissions),
    RM_LISTENER(imap),
    RM_LISTENER(imaps),
    RM_LISTENER(pop3),
    RM_LISTENER(pop3s),

    Section("smtp"),
    Uint32(RM_KEY(smtp.message_bytes_max), 1024, 2147483647),
    Uint32(RM_KEY(smtp.recipients_max), 1, 100000),
    Uint32(RM_KEY(smtp.errors_max), 1, 1000),
    Uint32(RM_KEY(smtp.connections_per_ip_max), 1, 1000000),
    Uint32(RM_KEY(smtp.line_bytes_max), 512, 65536),  // RFC 5321 asks for at least 512
    Uint32(RM_KEY(smtp.greeting_delay_ms), 0, 60000),
    Uint32(RM_KEY(smtp.command_timeout_ms), 1000, 3600000),
    Uint32(RM_KEY(smtp.data_timeout_ms), 1000, 3600000),
    String(RM_KEY(smtp.bare_line_policy), check_bare_line_policy),
    Bool(RM_KEY(smtp.vrfy_enabled)),
    Bool(RM_KEY(smtp.helo_required)),
    Bool(RM_KEY(smtp.auth_plaintext_allowed)),
    Uint32(RM_KEY(smtp.auth_failures_before_delay), 0, 1000),
    Uint32(RM_KEY(smtp.auth_failures_max), 1, 100000),
    Uint32(RM_KEY(smtp.auth_failure_window_ms), 1000, 86400000),
    Bool(RM_KEY(smtp.submission_hide_client)),
    StringList(RM_KEY(smtp.trusted_networks), check_cidr),
    Uint32(RM_KEY(smtp.body_chunk_bytes), 4096, 67108864),

    Section("access"),
    Bool(RM_KEY(access.plaintext_auth_allowed)),
    Uint32(RM_KEY(access.imap_idle_timeout_ms), 1000, 86400000),
    Uint32(RM_KEY(access.imap_login_timeout_ms), 1000, 3600000),
    Uint32(RM_KEY(access.pop3_timeout_ms), 1000, 86400000),
    Uint32(RM_KEY(access.append_bytes_max), 1024, 2147483647),
    Uint32(RM_KEY(access.errors_max), 1, 1000),
    Uint32(RM_KEY(access.login_cache_ms), 0, 86400000),

    Section("queue"),
    Bool(RM_KEY(queue.deliver)),
    Uint32(RM_KEY(queue.retry_initial_ms), 10, 86400000),
    Uint32(RM_KEY(queue.retry_max_ms), 10, 604800000),
    Uint32(RM_KEY(queue.lifetime_ms), 1000, 4000000000),
    Uint32(RM_KEY(queue.delay_warning_ms), 0, 4000000000),
    Uint32(RM_KEY(queue.deliveries_max), 1, 1000000),
    Uint32(RM_KEY(queue.bounce_returned_bytes_max), 0, 67108864),

    Section("relay"),
    StringList(RM_KEY(relay.transport_map), check_transport),
    String(RM_KEY(relay.smarthost), check_host_port),
    String(RM_KEY(relay.smarthost_user)),
    String(RM_KEY(relay.smarthost_password)),
    String(RM_KEY(relay.tls), check_tls_policy),
    StringList(RM_KEY(relay.tls_required_domains), check_protocol_token),
    String(RM_KEY(relay.dns_servers)),
    Uint32(RM_KEY(relay.dns_timeout_ms), 100, 60000),
    Uint32(RM_KEY(relay.mx_port), 1, 65535),
    Uint32(RM_KEY(relay.connect_timeout_ms), 100, 600000),
    Uint32(RM_KEY(relay.destination_concurrency_max), 1, 10000),
    Uint32(RM_KEY(relay.connection_idle_ms), 0, 3600000),
    String(RM_KEY(relay.helo_name)),

    Section("srs"),
    Bool(RM_KEY(srs.enabled)),
    StringList(RM_KEY(srs.secrets), check_srs_secret),
    String(RM_KEY(srs.domain), check_optional_token),
    Uint32(RM_KEY(srs.max_age_days), 1, 1023),  // 10-bit day stamps wrap after 1024 days

    Section("dkim"),
    Bool(RM_KEY(dkim.sign_outbound)),
    Bool(RM_KEY(dkim.verify_inbound)),

    Section("spf"),
    Bool(RM_KEY(spf.verify_inbound)),
    Bool(RM_KEY(spf.check_helo)),
    String(RM_KEY(spf.fail), check_one_of<kMarkOrReject>),
    Uint32(RM_KEY(spf.time_limit_ms), 1000, 600000),

    Section("dmarc"),
    Bool(RM_KEY(dmarc.verify_inbound)),
    String(RM_KEY(dmarc.reject), check_one_of<kRejectQuarantineOrMark>),
    String(RM_KEY(dmarc.quarantine), check_one_of<kQuarantineOrMark>),
    String(RM_KEY(dmarc.unclear_from), check_one_of<kMarkOrReject>),
    String(RM_KEY(dmarc.quarantine_mailbox), check_mailbox_name),
    String(RM_KEY(dmarc.public_suffix_list)),

    Section("store"),
    Uint32(RM_KEY(store.min_free_mib), 0, 1048576),
    Uint32(RM_KEY(store.inline_body_bytes_max), 0, 1048576),
    Uint32(RM_KEY(store.body_segment_mib), 1, 4096),

    Section("tls"),
    String(RM_KEY(tls.certificate_file)),
    String(RM_KEY(tls.key_file)),

    Section("runtime"),
    Uint32(RM_KEY(runtime.shards), 0, 256),  // 0 = one per allowed CPU
    Bool(RM_KEY(runtime.pin_threads)),
    Uint32(RM_KEY(runtime.ring_entries), 8, 32768),   // io_uring's SQ limit is 32768
    Uint32(RM_KEY(runtime.cq_entries), 16, 1048576),  // >= 2 * ring_entries, see below
    Uint32(RM_KEY(runtime.recv_buffer_count), 1, 32768, check_power_of_two),  // buf ring size
    Uint32(RM_KEY(runtime.recv_buffer_size), 256, 1048576),
    Uint32(RM_KEY(runtime.cross_shard_queue_capacity), 1, 65536),  // times shards^2 queues
    Uint32(RM_KEY(runtime.blocking_queue_capacity), 1, 1048576),
    Uint32(RM_KEY(runtime.timer_tick_ms), 1, 1000),
    Uint32(RM_KEY(runtime.shutdown_drain_ms), 0, 3600000),  // at most an hour

    Section("limits"),
    Uint32(RM_KEY(limits.connections_max), 1, 1000000),
    Uint32(RM_KEY(limits.input_buffer_bytes_max), 1024, 16777216),  // > one 1000-byte SMTP line
    Uint32(RM_KEY(limits.output_buffer_bytes_max), 4096, 1073741824),

    Section("log"),
    String(RM_KEY(log.level), check_log_level),
    String(RM_KEY(log.file)),  // "" = stderr
};

#undef RM_LISTENER
#undef RM_KEY

}  // namespace

std::span<const ConfigField> config_schema() {
  return kSchema;
}

Status check_config_invariants(const Options& options) {
  // Every submission can complete more than once (multishot accept/recv), so a CQ only
  // twice the SQ is the least that keeps completions from overflowing under load.
  const RuntimeOptions& rt = options.runtime;
  if (uint64_t{rt.cq_entries} < 2 * uint64_t{rt.ring_entries}) {
    return Status::InvalidArgument("'runtime.cq_entries': " + std::to_string(rt.cq_entries) +
                                   " is less than twice runtime.ring_entries (" +
                                   std::to_string(rt.ring_entries) + ")");
  }
  return Status::Ok();
}

}  // namespace rm
