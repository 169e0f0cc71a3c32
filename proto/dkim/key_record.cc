#include "proto/dkim/key_record.h"

#include "core/base/base64.h"
#include "proto/dkim/tag_list.h"

namespace rm {
namespace {

// Whether the colon-separated `list` (folding whitespace allowed) has `item`.
bool list_has(std::string_view list, std::string_view item) {
  std::string flat = dkim_strip_fws(list);
  std::string_view rest = flat;
  while (true) {
    size_t colon = rest.find(':');
    if (rest.substr(0, colon) == item) {
      return true;
    }
    if (colon == std::string_view::npos) {
      return false;
    }
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace

Result<DkimKeyRecord> parse_dkim_key_record(std::string_view txt) {
  Result<DkimTagList> tags = parse_dkim_tag_list(txt);
  if (!tags.ok()) {
    return tags.status();
  }
  DkimKeyRecord key;
  if (const std::string_view* v = tags->find("v")) {
    if (*v != "DKIM1" || tags->tags.front().name != "v") {
      return Status::InvalidArgument("key record v= is not DKIM1 or not first");
    }
  }
  if (const std::string_view* k = tags->find("k")) {
    if (*k == "rsa") {
      key.type = KeyType::kRsa;
    } else if (*k == "ed25519") {
      key.type = KeyType::kEd25519;
    } else {
      return Status::InvalidArgument("unknown key type k=" + std::string(k->substr(0, 16)));
    }
  }
  const std::string_view* p = tags->find("p");
  if (p == nullptr) {
    return Status::InvalidArgument("key record without p=");
  }
  std::string p_b64 = dkim_strip_fws(*p);
  if (!p_b64.empty()) {
    std::optional<std::string> der = base64_decode(p_b64);
    if (!der || der->empty()) {
      return Status::InvalidArgument("bad base64 in key record p=");
    }
    if (der->size() > kDkimKeyBytesMax) {
      return Status::InvalidArgument("key record p= too long");
    }
    key.public_key = std::move(*der);
  }
  if (const std::string_view* h = tags->find("h")) {
    key.allows_sha256 = list_has(*h, "sha256");
  }
  if (const std::string_view* t = tags->find("t")) {
    key.testing = list_has(*t, "y");
    key.strict_identity = list_has(*t, "s");
  }
  if (const std::string_view* s = tags->find("s")) {
    key.for_email = list_has(*s, "*") || list_has(*s, "email");
  }
  return key;
}

std::string format_dkim_key_record(KeyType type, std::string_view public_der) {
  return std::string("v=DKIM1; k=") + (type == KeyType::kRsa ? "rsa" : "ed25519") +
         "; p=" + base64_encode(public_der);
}

}  // namespace rm
