#include "proto/dkim/signature.h"

#include "core/base/base64.h"
#include "proto/dkim/tag_list.h"

namespace rm {
namespace {

// RFC 6376 allows up to 12 digits for t= and x=, 76 for l= (more than 64 bits can hold).
constexpr size_t kTimeDigitsMax = 12;
constexpr size_t kLengthDigitsMax = 19;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > kDkimDomainBytesMax || d.front() == '.' || d.back() == '.') {
    return false;
  }
  for (char c : d) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || u >= 0x80;
    if (!ok) {
      return false;
    }
  }
  return d.find("..") == std::string_view::npos;
}

Status parse_canon(std::string_view c, DkimSignature& sig) {
  auto one = [](std::string_view name, DkimCanon& out) {
    if (name == "simple") {
      out = DkimCanon::kSimple;
    } else if (name == "relaxed") {
      out = DkimCanon::kRelaxed;
    } else {
      return false;
    }
    return true;
  };
  size_t slash = c.find('/');
  bool ok = one(c.substr(0, slash), sig.header_canon);
  if (slash == std::string_view::npos) {
    sig.body_canon = DkimCanon::kSimple;
  } else {
    ok = ok && one(c.substr(slash + 1), sig.body_canon);
  }
  return ok ? Status::Ok()
            : Status::InvalidArgument("unknown canonicalization c=" + std::string(c.substr(0, 40)));
}

Status parse_signed_headers(std::string_view h, DkimSignature& sig) {
  std::string list = dkim_strip_fws(h);
  size_t start = 0;
  while (start <= list.size()) {
    size_t colon = list.find(':', start);
    std::string name = lower(std::string_view(list).substr(start, colon - start));
    if (name.empty()) {
      return Status::InvalidArgument("empty header name in h=");
    }
    if (sig.signed_headers.size() == kDkimSignedHeadersMax) {
      return Status::InvalidArgument("too many header names in h=");
    }
    sig.signed_headers.push_back(std::move(name));
    if (colon == std::string::npos) {
      break;
    }
    start = colon + 1;
  }
  for (const std::string& name : sig.signed_headers) {
    if (name == "from") {
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("h= does not include From");
}

Result<std::string> decode_base64_tag(std::string_view value, std::string_view tag) {
  std::optional<std::string> decoded = base64_decode(dkim_strip_fws(value));
  if (!decoded || decoded->empty()) {
    return Status::InvalidArgument("bad base64 in " + std::string(tag) + "=");
  }
  return std::move(*decoded);
}

Status check_identity(DkimSignature& sig) {
  size_t at = sig.identity.rfind('@');
  if (at == std::string::npos) {
    return Status::InvalidArgument("i= has no @");
  }
  std::string idomain = lower(std::string_view(sig.identity).substr(at + 1));
  bool same = idomain == sig.domain;
  bool sub = idomain.size() > sig.domain.size() && idomain.ends_with(sig.domain) &&
             idomain[idomain.size() - sig.domain.size() - 1] == '.';
  if (!same && !sub) {
    return Status::InvalidArgument("i= domain is not d= or a subdomain of it");
  }
  return Status::Ok();
}

Status fill_required(const DkimTagList& tags, DkimSignature& sig) {
  for (std::string_view name : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (tags.find(name) == nullptr) {
      return Status::InvalidArgument("missing required tag " + std::string(name) + "=");
    }
  }
  if (*tags.find("v") != "1") {
    return Status::InvalidArgument("unsupported version v=" +
                                   std::string(tags.find("v")->substr(0, 16)));
  }
  std::optional<DkimAlgorithm> alg = dkim_algorithm_from_name(lower(*tags.find("a")));
  if (!alg) {
    return Status::InvalidArgument("unsupported algorithm a=" +
                                   std::string(tags.find("a")->substr(0, 32)));
  }
  sig.algorithm = *alg;
  Result<std::string> b = decode_base64_tag(*tags.find("b"), "b");
  Result<std::string> bh = decode_base64_tag(*tags.find("bh"), "bh");
  if (!b.ok()) {
    return b.status();
  }
  if (!bh.ok()) {
    return bh.status();
  }
  sig.signature = std::move(*b);
  sig.signature_b64 = dkim_strip_fws(*tags.find("b"));
  sig.body_hash = std::move(*bh);
  if (sig.body_hash.size() != Sha256::kDigestBytes) {
    return Status::InvalidArgument("bh= is not a SHA-256 digest");
  }
  sig.domain = lower(*tags.find("d"));
  sig.selector = lower(*tags.find("s"));
  if (!valid_domain(sig.domain)) {
    return Status::InvalidArgument("bad domain d=");
  }
  if (!valid_domain(sig.selector)) {
    return Status::InvalidArgument("bad selector s=");
  }
  return parse_signed_headers(*tags.find("h"), sig);
}

Status fill_optional(const DkimTagList& tags, DkimSignature& sig) {
  if (const std::string_view* c = tags.find("c")) {
    RM_RETURN_IF_ERROR(parse_canon(lower(*c), sig));
  }
  if (const std::string_view* q = tags.find("q")) {
    std::string methods = lower(dkim_strip_fws(*q));
    if (methods.find("dns/txt") == std::string::npos) {
      return Status::InvalidArgument("no supported query method in q=");
    }
  }
  sig.identity = "@" + sig.domain;
  if (const std::string_view* i = tags.find("i")) {
    sig.identity = std::string(*i);
    RM_RETURN_IF_ERROR(check_identity(sig));
  }
  struct NumberTag {
    std::string_view name;
    size_t digits_max;
    std::optional<uint64_t>* out;
  };
  for (const NumberTag& n : {NumberTag{"l", kLengthDigitsMax, &sig.body_length},
                             NumberTag{"t", kTimeDigitsMax, &sig.timestamp},
                             NumberTag{"x", kTimeDigitsMax, &sig.expiration}}) {
    if (const std::string_view* v = tags.find(n.name)) {
      *n.out = dkim_parse_number(*v, n.digits_max);
      if (!*n.out) {
        return Status::InvalidArgument("bad number in " + std::string(n.name) + "=");
      }
    }
  }
  if (sig.timestamp && sig.expiration && *sig.expiration < *sig.timestamp) {
    return Status::InvalidArgument("x= is before t=");
  }
  return Status::Ok();
}

}  // namespace

std::string_view dkim_algorithm_name(DkimAlgorithm algorithm) {
  return algorithm == DkimAlgorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::optional<DkimAlgorithm> dkim_algorithm_from_name(std::string_view name) {
  if (name == "rsa-sha256") {
    return DkimAlgorithm::kRsaSha256;
  }
  if (name == "ed25519-sha256") {
    return DkimAlgorithm::kEd25519Sha256;
  }
  return std::nullopt;
}

KeyType dkim_key_type(DkimAlgorithm algorithm) {
  return algorithm == DkimAlgorithm::kRsaSha256 ? KeyType::kRsa : KeyType::kEd25519;
}

std::string_view dkim_canon_name(DkimCanon canon) {
  return canon == DkimCanon::kSimple ? "simple" : "relaxed";
}

std::string DkimSignature::key_query_name() const {
  return selector + "._domainkey." + domain;
}

std::optional<uint64_t> dkim_parse_number(std::string_view text, size_t digits_max) {
  if (text.empty() || text.size() > digits_max) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Result<DkimSignature> parse_dkim_signature(std::string_view value) {
  Result<DkimTagList> tags = parse_dkim_tag_list(value);
  if (!tags.ok()) {
    return tags.status();
  }
  DkimSignature sig;
  RM_RETURN_IF_ERROR(fill_required(*tags, sig));
  RM_RETURN_IF_ERROR(fill_optional(*tags, sig));
  return sig;
}

}  // namespace rm
