#include "tools/ringmaild/mail_auth/dkim_sign.h"

#include <vector>

#include "proto/dkim/header_canon.h"
#include "proto/dkim/signer.h"

namespace rm {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The domain after the last '@' of the first address in a From value: up to '>', a comma
// (the next mailbox), white space or a comment.
std::string domain_of_mailbox(std::string_view value) {
  const size_t angle = value.find('<');
  if (angle != std::string_view::npos) {
    value.remove_prefix(angle + 1);
    value = value.substr(0, value.find('>'));
  } else {
    value = value.substr(0, value.find(','));
  }
  const size_t at = value.rfind('@');
  if (at == std::string_view::npos)
    return "";
  value.remove_prefix(at + 1);
  size_t end = 0;
  while (end < value.size() && value[end] != '>' && value[end] != ' ' && value[end] != '\t' &&
         value[end] != '\r' && value[end] != '\n' && value[end] != '(' && value[end] != ',' &&
         value[end] != ';') {
    ++end;
  }
  return lower(value.substr(0, end));
}

}  // namespace

std::string dkim_from_domain(std::string_view message) {
  const DkimMessageParts parts = split_dkim_message(message);
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(parts.header_block);
  if (!fields.ok())
    return "";
  for (const DkimHeaderField& f : *fields) {
    if (dkim_name_equals(f.name, "from")) {
      return domain_of_mailbox(f.value());
    }
  }
  return "";
}

std::string dkim_signing_domain(const DkimKeySet& keys, std::string_view message,
                                std::string_view sender) {
  if (keys.empty())
    return "";
  std::string from = dkim_from_domain(message);
  if (!from.empty() && !keys.for_domain(from).empty())
    return from;
  const size_t at = sender.rfind('@');
  if (at == std::string_view::npos)
    return "";
  std::string envelope = lower(sender.substr(at + 1));
  return keys.for_domain(envelope).empty() ? "" : envelope;
}

Result<std::string> dkim_sign(const DkimKeySet& keys, std::string_view domain,
                              std::string_view message, uint64_t now_unix) {
  std::vector<DkimSignerKey> signer_keys;
  for (const DkimKeyEntry* entry : keys.for_domain(domain)) {
    Result<SigningKey> key = SigningKey::load(entry->private_pem);
    if (!key.ok()) {
      return Status::Internal("DKIM key " + entry->selector + " of " + entry->domain +
                              " does not load: " + std::string(key.status().message()));
    }
    signer_keys.push_back(
        DkimSignerKey{entry->domain, entry->selector, std::move(key).value(), ""});
  }
  if (signer_keys.empty())
    return std::string();
  DkimSigner signer(std::move(signer_keys));
  Result<std::vector<std::string>> fields = signer.sign_message(message, now_unix);
  if (!fields.ok())
    return fields.status();
  std::string out;
  for (const std::string& f : *fields)
    out += f;
  return out;
}

}  // namespace rm
