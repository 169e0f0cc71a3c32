#include "store/account/address_resolver.h"

#include <algorithm>
#include <set>

namespace rm {
namespace {

class Resolver {
 public:
  explicit Resolver(const Directory& dir) : dir_(dir) {}

  void expand(const std::string& address, int depth) {
    if (depth > kAliasDepthMax || out_.size() >= kExpansionTargetsMax ||
        !seen_.insert(address).second) {
      return;  // a loop or a chain too long: what it already gave stands
    }
    if (!is_local_address(dir_, address)) {
      add({DeliveryTarget::Kind::kRemote, address, ""});
      return;
    }
    if (expand_exact(address, depth)) {
      return;
    }
    const std::string base = without_tag(address);
    if (base != address && expand_exact(base, depth)) {
      return;
    }
    if (auto it = dir_.aliases.find("@" + domain_of(address)); it != dir_.aliases.end()) {
      for (const std::string& target : it->second) {
        expand(lower_ascii(target), depth + 1);
      }
    }
  }

  std::vector<DeliveryTarget> take() { return std::move(out_); }

 private:
  // Steps 1 and 2 for one address: false when neither an alias nor an account exists.
  bool expand_exact(const std::string& address, int depth) {
    if (auto it = dir_.aliases.find(address); it != dir_.aliases.end()) {
      for (const std::string& target : it->second) {
        const std::string t = lower_ascii(target);
        if (t == address) {
          add_account(address);  // the alias keeps a copy for its own account
        } else {
          expand(t, depth + 1);
        }
      }
      return true;
    }
    if (dir_.users.count(address) > 0) {
      add_account(address);
      return true;
    }
    return false;
  }

  void add_account(const std::string& account) {
    if (dir_.users.count(account) == 0) {
      return;
    }
    const std::string* spec = find_delivery(account);
    if (spec == nullptr) {
      add({DeliveryTarget::Kind::kMailbox, account, ""});
      return;
    }
    const size_t colon = spec->find(':');
    const auto kind = spec->compare(0, colon, "mbox") == 0 ? DeliveryTarget::Kind::kMbox
                                                           : DeliveryTarget::Kind::kMaildir;
    add({kind, account, expand_delivery_path(std::string_view(*spec).substr(colon + 1), account)});
  }

  const std::string* find_delivery(const std::string& account) const {
    if (auto it = dir_.deliveries.find(account); it != dir_.deliveries.end()) {
      return &it->second;
    }
    auto it = dir_.deliveries.find("@" + domain_of(account));
    return it == dir_.deliveries.end() ? nullptr : &it->second;
  }

  void add(DeliveryTarget target) {
    if (std::find(out_.begin(), out_.end(), target) == out_.end() &&
        out_.size() < kExpansionTargetsMax) {
      out_.push_back(std::move(target));
    }
  }

  static std::string without_tag(const std::string& address) {
    const size_t at = address.rfind('@');
    const size_t plus = address.find('+');
    if (at == std::string::npos || plus == std::string::npos || plus == 0 || plus > at) {
      return address;
    }
    return address.substr(0, plus) + address.substr(at);
  }

  const Directory& dir_;
  std::set<std::string> seen_;
  std::vector<DeliveryTarget> out_;
};

// An address part as one path component: no '/', and no leading '.' (no "..").
std::string path_safe(std::string_view part) {
  std::string out(part);
  std::replace(out.begin(), out.end(), '/', '_');
  if (!out.empty() && out[0] == '.') {
    out[0] = '_';
  }
  return out;
}

}  // namespace

std::string domain_of(std::string_view address) {
  const size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lower_ascii(address.substr(at + 1));
}

bool is_local_address(const Directory& dir, std::string_view address) {
  return dir.has_domain(domain_of(address));
}

std::vector<DeliveryTarget> resolve_address(const Directory& dir, std::string_view address) {
  Resolver resolver(dir);
  resolver.expand(lower_ascii(address), 0);
  return resolver.take();
}

std::string expand_delivery_path(std::string_view path_template, std::string_view address) {
  const size_t at = address.rfind('@');
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = at == std::string_view::npos ? "" : address.substr(at + 1);
  std::string out;
  for (size_t i = 0; i < path_template.size(); ++i) {
    const char c = path_template[i];
    const char next = i + 1 < path_template.size() ? path_template[i + 1] : '\0';
    if (c == '%' && (next == 'u' || next == 'd' || next == 'a' || next == '%')) {
      out += path_safe(next == 'u' ? local : next == 'd' ? domain : next == 'a' ? address : "%");
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace rm
