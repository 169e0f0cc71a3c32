#include "proto/spf/record.h"

#include <arpa/inet.h>

#include "proto/spf/macro.h"

namespace rm::spf {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

char lower(char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
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

Status syntax(std::string_view term, std::string_view why) {
  return Status::InvalidArgument("SPF syntax error in '" + std::string(term) +
                                 "': " + std::string(why));
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool valid_toplabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') {
    return false;
  }
  bool alpha = false;
  bool hyphen = false;
  for (char c : label) {
    if (c == '-') {
      hyphen = true;
    } else if (!is_alnum(c)) {
      return false;
    }
    alpha = alpha || is_alpha(c);
  }
  return alpha || hyphen;
}

// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
Status check_domain_spec(std::string_view term, std::string_view spec) {
  if (spec.empty()) {
    return syntax(term, "empty domain");
  }
  Status macros = check_macro_string(spec, MacroMode::kDomainSpec);
  if (!macros.ok()) {
    return syntax(term, macros.message());
  }
  if (spec.back() == '}') {
    return Status::Ok();  // the macro check proved it closes a macro-expand
  }
  // "%%", "%_", "%-" at the end are macro-expands too, unless the '%' is itself escaped.
  size_t percents = 0;
  for (size_t i = spec.size() - 1; i > 0 && spec[i - 1] == '%'; --i) {
    ++percents;
  }
  const char last = spec.back();
  if ((last == '%' || last == '_' || last == '-') && percents % 2 == 1) {
    return Status::Ok();
  }
  std::string_view name = spec;
  if (name.back() == '.') {
    name.remove_suffix(1);
  }
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || !valid_toplabel(name.substr(dot + 1))) {
    return syntax(term, "the domain must end with a top-level label or a macro");
  }
  return Status::Ok();
}

// A decimal in 0..max without leading zeros.
std::optional<uint8_t> parse_prefix(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= max ? std::optional<uint8_t>(static_cast<uint8_t>(value)) : std::nullopt;
}

// Where a trailing dual-cidr-length ("/24", "//64", "/24//64") starts in `arg`, or
// arg.size(). Only such a suffix counts: "foo:bar/baz.example.com" is all domain.
size_t dual_cidr_start(std::string_view arg) {
  auto digits_from = [arg](size_t end) {
    size_t begin = end;
    while (begin > 0 && is_digit(arg[begin - 1])) {
      --begin;
    }
    return begin;
  };
  size_t start = arg.size();
  size_t digits = digits_from(start);
  if (digits < start && digits >= 2 && arg.substr(digits - 2, 2) == "//") {
    start = digits - 2;
    digits = digits_from(start);
  }
  if (digits < start && digits >= 1 && arg[digits - 1] == '/') {
    start = digits - 1;
  }
  return start;
}

// dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]
Status parse_dual_cidr(std::string_view term, std::string_view cidr, Mechanism& out) {
  const size_t split = cidr.find("//");
  const std::string_view v4 = cidr.substr(0, split);
  if (!v4.empty()) {
    const auto bits = v4.size() > 1 && v4[0] == '/' ? parse_prefix(v4.substr(1), 32) : std::nullopt;
    if (!bits) {
      return syntax(term, "bad IPv4 prefix length");
    }
    out.ip4_prefix = *bits;
  }
  if (split != std::string_view::npos) {
    const auto bits = parse_prefix(cidr.substr(split + 2), 128);
    if (!bits) {
      return syntax(term, "bad IPv6 prefix length");
    }
    out.ip6_prefix = *bits;
  }
  return Status::Ok();
}

Status parse_ip_network(std::string_view term, std::string_view arg, Mechanism& out) {
  const bool v6 = out.kind == MechanismKind::kIp6;
  const size_t slash = arg.find('/');
  const std::string address(arg.substr(0, slash));
  out.network.v6 = v6;
  if (address.empty() ||
      inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), out.network.bytes.data()) != 1) {
    return syntax(term, v6 ? "bad IPv6 address" : "bad IPv4 address");
  }
  if (slash != std::string_view::npos) {
    const auto bits = parse_prefix(arg.substr(slash + 1), v6 ? 128 : 32);
    if (!bits) {
      return syntax(term, "bad prefix length");
    }
    (v6 ? out.ip6_prefix : out.ip4_prefix) = *bits;
  }
  return Status::Ok();
}

struct MechanismName {
  std::string_view name;
  MechanismKind kind;
};
constexpr MechanismName kMechanisms[] = {
    {"all", MechanismKind::kAll}, {"include", MechanismKind::kInclude},
    {"a", MechanismKind::kA},     {"mx", MechanismKind::kMx},
    {"ptr", MechanismKind::kPtr}, {"ip4", MechanismKind::kIp4},
    {"ip6", MechanismKind::kIp6}, {"exists", MechanismKind::kExists},
};

// `rest` is what follows the mechanism's name: "", ":arg", "/cidr", ...
Status parse_mechanism_args(std::string_view term, std::string_view rest, Mechanism& out) {
  switch (out.kind) {
    case MechanismKind::kAll:
      return rest.empty() ? Status::Ok() : syntax(term, "'all' takes no argument");
    case MechanismKind::kInclude:
    case MechanismKind::kExists:
      if (rest.size() < 2 || rest[0] != ':') {
        return syntax(term, "a domain is required");
      }
      out.domain_spec = std::string(rest.substr(1));
      return check_domain_spec(term, out.domain_spec);
    case MechanismKind::kIp4:
    case MechanismKind::kIp6:
      if (rest.empty() || rest[0] != ':') {
        return syntax(term, "an address is required");
      }
      return parse_ip_network(term, rest.substr(1), out);
    case MechanismKind::kPtr:
      if (rest.empty()) {
        return Status::Ok();
      }
      if (rest[0] != ':') {
        return syntax(term, "'ptr' takes no prefix length");
      }
      out.domain_spec = std::string(rest.substr(1));
      return check_domain_spec(term, out.domain_spec);
    case MechanismKind::kA:
    case MechanismKind::kMx: {
      std::string_view domain;
      std::string_view cidr = rest;
      if (!rest.empty() && rest[0] == ':') {
        const size_t slash = 1 + dual_cidr_start(rest.substr(1));
        domain = rest.substr(1, slash - 1);
        cidr = rest.substr(slash);
        out.domain_spec = std::string(domain);
        RM_RETURN_IF_ERROR(check_domain_spec(term, domain));
      } else if (!rest.empty() && dual_cidr_start(rest) != 0) {
        return syntax(term, "bad prefix length");
      }
      return parse_dual_cidr(term, cidr, out);
    }
  }
  return syntax(term, "unknown mechanism");
}

Status parse_mechanism(std::string_view term, Record& record) {
  Mechanism m;
  m.text = std::string(term);
  std::string_view body = term;
  switch (body[0]) {
    case '+':
      m.qualifier = Qualifier::kPass;
      break;
    case '-':
      m.qualifier = Qualifier::kFail;
      break;
    case '~':
      m.qualifier = Qualifier::kSoftFail;
      break;
    case '?':
      m.qualifier = Qualifier::kNeutral;
      break;
    default:
      break;
  }
  if (body[0] == '+' || body[0] == '-' || body[0] == '~' || body[0] == '?') {
    body.remove_prefix(1);
  }
  const size_t end = body.find_first_of(":/");
  const std::string_view name = body.substr(0, end);
  const std::string_view rest = end == std::string_view::npos ? "" : body.substr(end);
  for (const MechanismName& known : kMechanisms) {
    if (iequals(name, known.name)) {
      m.kind = known.kind;
      RM_RETURN_IF_ERROR(parse_mechanism_args(term, rest, m));
      record.mechanisms.push_back(std::move(m));
      return Status::Ok();
    }
  }
  return syntax(term, "unknown mechanism");
}

// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool valid_modifier_name(std::string_view name) {
  if (name.empty() || !is_alpha(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

Status parse_modifier(std::string_view term, size_t equals, Record& record) {
  const std::string_view name = term.substr(0, equals);
  const std::string_view value = term.substr(equals + 1);
  if (!valid_modifier_name(name)) {
    return syntax(term, "bad modifier name");
  }
  const bool redirect = iequals(name, "redirect");
  if (redirect || iequals(name, "exp")) {
    std::optional<std::string>& slot = redirect ? record.redirect : record.exp;
    if (slot) {
      return syntax(term, "modifier given twice");
    }
    RM_RETURN_IF_ERROR(check_domain_spec(term, value));
    slot = std::string(value);
    return Status::Ok();
  }
  Status macros = check_macro_string(value, MacroMode::kDomainSpec);  // unknown: ignored
  return macros.ok() ? Status::Ok() : syntax(term, macros.message());
}

Status parse_term(std::string_view term, Record& record) {
  // A modifier's '=' comes before any ':' or '/' (the name allows neither).
  const size_t equals = term.find('=');
  const size_t other = term.find_first_of(":/");
  if (equals != std::string_view::npos && (other == std::string_view::npos || equals < other)) {
    return parse_modifier(term, equals, record);
  }
  return parse_mechanism(term, record);
}

}  // namespace

bool is_spf_record(std::string_view text) {
  return text.size() >= 6 && iequals(text.substr(0, 6), "v=spf1") &&
         (text.size() == 6 || text[6] == ' ');
}

Result<Record> parse_record(std::string_view text) {
  if (!is_spf_record(text)) {
    return Status::InvalidArgument("not an SPF record");
  }
  if (text.size() > kRecordBytesMax) {
    return Status::InvalidArgument("SPF record too long");
  }
  Record record;
  size_t terms = 0;
  size_t pos = 6;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    const size_t end = std::min(text.find(' ', pos), text.size());
    if (++terms > kTermsMax) {
      return Status::InvalidArgument("SPF record has too many terms");
    }
    RM_RETURN_IF_ERROR(parse_term(text.substr(pos, end - pos), record));
    pos = end;
  }
  return record;
}

std::string_view qualifier_name(Qualifier qualifier) {
  switch (qualifier) {
    case Qualifier::kPass:
      return "pass";
    case Qualifier::kFail:
      return "fail";
    case Qualifier::kSoftFail:
      return "softfail";
    case Qualifier::kNeutral:
      return "neutral";
  }
  return "neutral";
}

}  // namespace rm::spf
