#include "proto/srs/srs.h"

#include <algorithm>
#include <iterator>

#include "core/base/base64.h"
#include "core/crypto/hmac.h"

namespace rm::srs {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSeparators = "=+-";
constexpr int64_t kSecondsPerDay = 86400;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// 1 for "SRS0<sep>...", 2 for "SRS1<sep>...", 0 otherwise.
int srs_kind(std::string_view local) {
  if (local.size() < 5 || kSeparators.find(local[4]) == std::string_view::npos ||
      !iequals(local.substr(0, 3), "srs")) {
    return 0;
  }
  return local[3] == '0' ? 1 : local[3] == '1' ? 2 : 0;
}

// Splits off the text before the next '=' (the fields inside SRS addresses are always
// separated by '=', whatever the separator after SRS0/SRS1).
bool take_field(std::string_view& rest, std::string_view& field) {
  size_t eq = rest.find('=');
  if (eq == std::string_view::npos) {
    return false;
  }
  field = rest.substr(0, eq);
  rest.remove_prefix(eq + 1);
  return true;
}

uint32_t today(int64_t now_unix_s) {
  int64_t day = std::max<int64_t>(now_unix_s, 0) / kSecondsPerDay;
  return static_cast<uint32_t>(day % kTimestampSlots);
}

std::string encode_timestamp(uint32_t day) {
  return {kBase32[(day >> 5) & 31], kBase32[day & 31]};
}

Rewritten fail(SrsError e) {
  return Rewritten{e, {}};
}

Rewritten checked(std::string address) {
  if (address.size() > kAddressBytesMax) {
    return fail(SrsError::kTooLong);
  }
  return Rewritten{SrsError::kNone, std::move(address)};
}

}  // namespace

std::string_view srs_error_name(SrsError e) {
  switch (e) {
    case SrsError::kNone:
      return "ok";
    case SrsError::kNotSrs:
      return "not an SRS address";
    case SrsError::kNoAtSign:
      return "no @ in address";
    case SrsError::kSyntax:
      return "malformed SRS address";
    case SrsError::kHashTooShort:
      return "SRS hash too short";
    case SrsError::kBadHash:
      return "SRS hash does not match";
    case SrsError::kBadTimestamp:
      return "bad SRS timestamp";
    case SrsError::kExpired:
      return "SRS timestamp expired";
    case SrsError::kTooLong:
      return "address too long";
  }
  return "unknown";
}

Result<Srs> Srs::create(std::vector<std::string> secrets, SrsOptions options) {
  if (secrets.empty() || secrets.size() > kSecretsMax) {
    return Status::InvalidArgument("SRS needs between 1 and 16 secrets");
  }
  for (const std::string& s : secrets) {
    if (s.empty() || s.size() > kSecretBytesMax) {
      return Status::InvalidArgument("an SRS secret is empty or longer than 1024 bytes");
    }
  }
  if (kSeparators.find(options.separator) == std::string_view::npos) {
    return Status::InvalidArgument("SRS separator must be '=', '+' or '-'");
  }
  if (options.hash_length < 1 || options.hash_length > kHashLengthMax || options.hash_min < 1 ||
      options.hash_min > options.hash_length) {
    return Status::InvalidArgument("SRS hash length out of range");
  }
  if (options.max_age_days < 1 || options.max_age_days >= kTimestampSlots) {
    return Status::InvalidArgument("SRS maximum age out of range");
  }
  return Srs(std::move(secrets), options);
}

bool Srs::is_srs(std::string_view address) {
  return srs_kind(address.substr(0, address.rfind('@'))) != 0;
}

std::string Srs::hash(size_t secret, std::initializer_list<std::string_view> parts) const {
  HmacSha1 mac(secrets_[secret]);
  std::string lowered;
  for (std::string_view part : parts) {
    lowered.clear();
    std::transform(part.begin(), part.end(), std::back_inserter(lowered), lower);
    mac.update(lowered);
  }
  HmacSha1::Digest digest = mac.finish();
  std::string b64 =
      base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return b64.substr(0, kHashLengthMax);
}

SrsError Srs::check_hash(std::string_view given,
                         std::initializer_list<std::string_view> parts) const {
  if (given.size() < options_.hash_min) {
    return SrsError::kHashTooShort;
  }
  if (given.size() > kHashLengthMax) {
    return SrsError::kBadHash;
  }
  // Case is ignored: some systems fold local parts, and libsrs2 accepts that too (it costs
  // about one bit of the hash per character).
  for (size_t i = 0; i < secrets_.size(); ++i) {
    if (iequals(given, std::string_view(hash(i, parts)).substr(0, given.size()))) {
      return SrsError::kNone;
    }
  }
  return SrsError::kBadHash;
}

SrsError Srs::check_timestamp(std::string_view stamp, int64_t now_unix_s) const {
  if (stamp.size() != 2) {
    return SrsError::kBadTimestamp;
  }
  uint32_t then = 0;
  for (char c : stamp) {
    size_t v = kBase32.find(upper(c));
    if (v == std::string_view::npos) {
      return SrsError::kBadTimestamp;
    }
    then = (then << 5) | static_cast<uint32_t>(v);
  }
  uint32_t now = today(now_unix_s);
  if (now < then) {
    now += kTimestampSlots;
  }
  return now - then > options_.max_age_days ? SrsError::kExpired : SrsError::kNone;
}

Rewritten Srs::forward(std::string_view sender, std::string_view our_domain,
                       int64_t now_unix_s) const {
  if (sender.size() > kAddressBytesMax) {
    return fail(SrsError::kTooLong);
  }
  size_t at = sender.rfind('@');
  if (at == std::string_view::npos) {
    return fail(SrsError::kNoAtSign);
  }
  std::string_view local = sender.substr(0, at);
  std::string_view domain = sender.substr(at + 1);
  // A '=' in the domain would move the fields of the SRS address: no domain has one.
  if (local.empty() || domain.empty() || our_domain.empty() ||
      domain.find('=') != std::string_view::npos) {
    return fail(SrsError::kSyntax);
  }
  if (!options_.always_rewrite && iequals(domain, our_domain)) {
    return Rewritten{SrsError::kNone, std::string(sender)};
  }
  const std::string tag1 = std::string("SRS1") + options_.separator;
  const std::string suffix = "@" + std::string(our_domain);
  switch (srs_kind(local)) {
    case 2: {  // SRS1: keep the first forwarder's host and its SRS0 part, sign them anew
      std::string_view rest = local.substr(5), old_hash, host;
      if (!take_field(rest, old_hash) || !take_field(rest, host) || host.empty() || rest.empty()) {
        return fail(SrsError::kSyntax);
      }
      std::string h = hash(0, {host, rest}).substr(0, options_.hash_length);
      return checked(tag1 + h + "=" + std::string(host) + "=" + std::string(rest) + suffix);
    }
    case 1: {  // SRS0: the sender's domain is the first forwarder; keep its separator
      std::string_view rest = local.substr(4);
      std::string h = hash(0, {domain, rest}).substr(0, options_.hash_length);
      return checked(tag1 + h + "=" + std::string(domain) + "=" + std::string(rest) + suffix);
    }
    default: {
      std::string stamp = encode_timestamp(today(now_unix_s));
      std::string h = hash(0, {stamp, domain, local}).substr(0, options_.hash_length);
      return checked(std::string("SRS0") + options_.separator + h + "=" + stamp + "=" +
                     std::string(domain) + "=" + std::string(local) + suffix);
    }
  }
}

Rewritten Srs::reverse_srs0(std::string_view rest, int64_t now_unix_s) const {
  std::string_view given_hash, stamp, host;
  if (!take_field(rest, given_hash) || !take_field(rest, stamp) || !take_field(rest, host) ||
      host.empty() || rest.empty()) {
    return fail(SrsError::kSyntax);
  }
  if (SrsError e = check_hash(given_hash, {stamp, host, rest}); e != SrsError::kNone) {
    return fail(e);
  }
  if (SrsError e = check_timestamp(stamp, now_unix_s); e != SrsError::kNone) {
    return fail(e);
  }
  return checked(std::string(rest) + "@" + std::string(host));
}

Rewritten Srs::reverse_srs1(std::string_view rest) const {
  std::string_view given_hash, host;
  if (!take_field(rest, given_hash) || !take_field(rest, host) || host.empty() || rest.empty() ||
      kSeparators.find(rest.front()) == std::string_view::npos) {
    return fail(SrsError::kSyntax);
  }
  if (SrsError e = check_hash(given_hash, {host, rest}); e != SrsError::kNone) {
    return fail(e);
  }
  // The SRS0 part was signed by the first forwarder, which checks it when the bounce arrives.
  return checked("SRS0" + std::string(rest) + "@" + std::string(host));
}

Rewritten Srs::reverse(std::string_view recipient, int64_t now_unix_s) const {
  if (recipient.size() > kAddressBytesMax) {
    return fail(SrsError::kTooLong);
  }
  std::string_view local = recipient.substr(0, recipient.rfind('@'));
  switch (srs_kind(local)) {
    case 1:
      return reverse_srs0(local.substr(5), now_unix_s);
    case 2:
      return reverse_srs1(local.substr(5));
    default:
      return fail(SrsError::kNotSrs);
  }
}

}  // namespace rm::srs
