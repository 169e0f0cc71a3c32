#include "tools/ringmaild/delivery/srs_policy.h"

#include <algorithm>
#include <utility>

#include "store/account/directory.h"

namespace rm {

SrsPolicy::SrsPolicy(srs::Srs srs, std::string domain, std::vector<std::string> our_domains)
    : srs_(std::move(srs)), domain_(lower_ascii(domain)) {
  for (const std::string& d : our_domains) {
    our_domains_.push_back(lower_ascii(d));
  }
}

bool SrsPolicy::is_ours(std::string_view domain) const {
  const std::string lower = lower_ascii(domain);
  return lower == domain_ ||
         std::find(our_domains_.begin(), our_domains_.end(), lower) != our_domains_.end();
}

std::string SrsPolicy::forward_sender(std::string_view sender, int64_t now_unix_s) const {
  const size_t at = sender.rfind('@');
  if (sender.empty() || at == std::string_view::npos || is_ours(sender.substr(at + 1))) {
    return std::string(sender);
  }
  srs::Rewritten rewritten = srs_.forward(sender, domain_, now_unix_s);
  return rewritten.ok() ? std::move(rewritten.address) : std::string(sender);
}

std::optional<srs::Rewritten> SrsPolicy::reverse_recipient(std::string_view recipient,
                                                           int64_t now_unix_s) const {
  const size_t at = recipient.rfind('@');
  if (at == std::string_view::npos || lower_ascii(recipient.substr(at + 1)) != domain_ ||
      !srs::Srs::is_srs(recipient)) {
    return std::nullopt;
  }
  return srs_.reverse(recipient.substr(0, at), now_unix_s);
}

std::string SrsPolicy::refusal_text(std::string_view recipient, srs::SrsError error) {
  std::string why = error == srs::SrsError::kExpired ? "expired" : "invalid";
  return "<" + std::string(recipient) + ">: Recipient address rejected: " + why + " SRS address (" +
         std::string(srs::srs_error_name(error)) + ")";
}

std::string srs_domain(const std::string& configured, const std::vector<std::string>& local_domains,
                       const std::string& hostname) {
  if (!configured.empty()) {
    return lower_ascii(configured);
  }
  // "localhost" (the default local domain) is no address anyone can send a bounce to.
  for (const std::string& domain : local_domains) {
    if (lower_ascii(domain) != "localhost") {
      return lower_ascii(domain);
    }
  }
  return lower_ascii(hostname);
}

}  // namespace rm
