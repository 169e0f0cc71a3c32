#include "proto/smtp/command.h"

#include <array>
#include <cctype>
#include <charconv>

namespace rm::smtp {
namespace {

constexpr uint32_t kGroupEnd = kLastInGroup;
constexpr std::array<VerbInfo, 14> kVerbs = {{
    {"HELO", Verb::kHelo, kBeforeTls | kGroupEnd | kCountsAsJunk},
    {"EHLO", Verb::kEhlo, kBeforeTls | kGroupEnd | kCountsAsJunk},
    {"MAIL", Verb::kMail, kCountsAsJunk},
    {"RCPT", Verb::kRcpt, kCountsAsJunk},
    {"DATA", Verb::kData, kGroupEnd | kCountsAsJunk},
    {"BDAT", Verb::kBdat, kCountsAsJunk},
    {"RSET", Verb::kRset, kBeforeTls},
    {"NOOP", Verb::kNoop, kBeforeTls | kGroupEnd},
    {"QUIT", Verb::kQuit, kBeforeTls | kGroupEnd},
    {"VRFY", Verb::kVrfy, kGroupEnd | kCountsAsJunk},
    {"EXPN", Verb::kExpn, kGroupEnd | kCountsAsJunk},
    {"HELP", Verb::kHelp, kBeforeTls},
    {"STARTTLS", Verb::kStartTls, kBeforeTls | kGroupEnd | kCountsAsJunk},
    {"AUTH", Verb::kAuth, kGroupEnd | kCountsAsJunk},
}};

constexpr size_t kPathMax = 256;
constexpr size_t kParamValueMax = 500;

ParseResult fail(int code, std::string_view status, std::string text) {
  ParseResult r;
  r.error = Reply{code, status, std::move(text)};
  return r;
}

ParseResult syntax(std::string_view usage) {
  return fail(501, "5.5.4", "Syntax: " + std::string(usage));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Splits "<path> params" after "FROM:"/"TO:". The path ends at the first '>' outside quotes.
bool split_path(std::string_view text, std::string_view& path, std::string_view& params) {
  text = trim_spaces(text);  // clients commonly send "MAIL FROM: <a@b>"
  if (text.empty() || text.front() != '<') {
    return false;
  }
  bool quoted = false;
  for (size_t i = 1; i < text.size(); ++i) {
    if (quoted && text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      quoted = !quoted;
    } else if (text[i] == '>' && !quoted) {
      path = text.substr(1, i - 1);
      params = text.substr(i + 1);
      return params.empty() || params.front() == ' ';
    }
  }
  return false;
}

// Drops an RFC 5321 source route ("@a,@b:") — obsolete, accepted and ignored (§4.1.1.3).
std::string_view strip_source_route(std::string_view path) {
  if (!path.empty() && path.front() == '@') {
    const size_t colon = path.find(':');
    return colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
  }
  return path;
}

ParseResult address_error(AddressError error, bool sender) {
  const std::string_view status = sender ? "5.1.7" : "5.1.3";
  switch (error) {
    case AddressError::kNeedsUtf8:
      return fail(553, "5.6.7", "Must declare SMTPUTF8 to send UTF8 addresses");
    case AddressError::kLocalTooLong:
      return fail(501, status, "Local part too long");
    case AddressError::kDomainTooLong:
    case AddressError::kPathTooLong:
      return fail(501, status, "Address too long");
    default:
      return fail(501, status, sender ? "Bad sender address syntax" : "Bad recipient address syntax");
  }
}

template <typename Fn>
std::optional<ParseResult> for_each_param(std::string_view params, const ParseContext& ctx, Fn fn) {
  params = trim_spaces(params);
  if (!params.empty() && !ctx.esmtp) {
    return fail(555, "5.5.4", "Parameters need EHLO");
  }
  while (!params.empty()) {
    const size_t space = params.find(' ');
    const std::string_view param = params.substr(0, space);
    params = space == std::string_view::npos ? std::string_view() : trim_spaces(params.substr(space));
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (value.size() > kParamValueMax) {
      return fail(501, "5.5.4", "Parameter value too long");
    }
    if (std::optional<ParseResult> err = fn(key, value, eq != std::string_view::npos)) {
      return err;
    }
  }
  return std::nullopt;
}

ParseResult unsupported(std::string_view key) {
  return fail(555, "5.5.4", "Unsupported option: " + std::string(key));
}

std::optional<ParseResult> mail_param(std::string_view key, std::string_view value, bool has_value,
                                      const ParseContext& ctx, MailParams& p, uint32_t& seen) {
  auto once = [&seen](uint32_t bit) {
    const bool first = (seen & bit) == 0;
    seen |= bit;
    return first;
  };
  if (iequals(key, "SIZE") && has_value) {
    if (!once(1) || !parse_u64(value, p.size.emplace())) {
      return syntax("SIZE=number");
    }
    if (ctx.size_max != 0 && *p.size > ctx.size_max) {
      return fail(552, "5.3.4", "Message size exceeds fixed maximum message size");
    }
  } else if (iequals(key, "BODY") && has_value) {
    if (!once(2)) return syntax("BODY=7BIT|8BITMIME");
    if (iequals(value, "7BIT")) p.body = Body::k7Bit;
    else if (iequals(value, "8BITMIME")) p.body = Body::k8BitMime;
    else if (iequals(value, "BINARYMIME") && ctx.chunking) p.body = Body::kBinaryMime;
    else return fail(501, "5.5.4", "Unsupported BODY type");
  } else if (iequals(key, "SMTPUTF8") && !has_value && ctx.smtputf8) {
    if (!once(4)) return syntax("SMTPUTF8");
    p.smtputf8 = true;
  } else if (iequals(key, "RET") && has_value && ctx.dsn) {
    if (!once(8)) return syntax("RET=FULL|HDRS");
    if (iequals(value, "FULL")) p.ret = Ret::kFull;
    else if (iequals(value, "HDRS")) p.ret = Ret::kHdrs;
    else return syntax("RET=FULL|HDRS");
  } else if (iequals(key, "ENVID") && has_value && ctx.dsn) {
    if (!once(16) || !decode_xtext(value, p.envid) || p.envid.size() > 100) {
      return syntax("ENVID=xtext (at most 100 characters)");
    }
  } else if (iequals(key, "AUTH") && has_value) {
    if (!once(32) || !decode_xtext(value, p.auth)) return syntax("AUTH=xtext");
  } else {
    return unsupported(key);
  }
  return std::nullopt;
}

std::optional<ParseResult> rcpt_param(std::string_view key, std::string_view value, bool has_value,
                                      const ParseContext& ctx, RcptParams& p) {
  if (iequals(key, "NOTIFY") && has_value && ctx.dsn && p.notify == kNotifyUnset) {
    std::string_view rest = value;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      if (iequals(item, "NEVER")) p.notify |= kNotifyNever;
      else if (iequals(item, "SUCCESS")) p.notify |= kNotifySuccess;
      else if (iequals(item, "FAILURE")) p.notify |= kNotifyFailure;
      else if (iequals(item, "DELAY")) p.notify |= kNotifyDelay;
      else return syntax("NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY");
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    if ((p.notify & kNotifyNever) && p.notify != kNotifyNever) {
      return syntax("NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY");
    }
  } else if (iequals(key, "ORCPT") && has_value && ctx.dsn && p.orcpt.empty()) {
    const size_t semi = value.find(';');
    if (semi == 0 || semi == std::string_view::npos || !decode_xtext(value.substr(semi + 1), p.orcpt)) {
      return syntax("ORCPT=addr-type;xtext");
    }
    p.orcpt.insert(0, std::string(value.substr(0, semi + 1)));
  } else {
    return unsupported(key);
  }
  return std::nullopt;
}

ParseResult parse_mail(std::string_view arg, const ParseContext& ctx) {
  std::string_view path, params;
  if (!istarts_with(arg, "FROM:") || !split_path(arg.substr(5), path, params)) {
    return syntax("MAIL FROM:<address>");
  }
  Command cmd;
  cmd.verb = Verb::kMail;
  uint32_t seen = 0;
  if (auto err = for_each_param(params, ctx, [&](auto k, auto v, bool has) {
        return mail_param(k, v, has, ctx, cmd.mail, seen);
      })) {
    return std::move(*err);
  }
  if (path.size() > kPathMax) {
    return address_error(AddressError::kPathTooLong, true);
  }
  path = strip_source_route(path);
  if (path.empty()) {
    cmd.null_path = true;
  } else if (AddressError e = parse_mailbox(path, cmd.mail.smtputf8, cmd.mailbox); e != AddressError::kNone) {
    return address_error(e, true);
  }
  ParseResult r;
  r.command = std::move(cmd);
  return r;
}

ParseResult parse_rcpt(std::string_view arg, const ParseContext& ctx) {
  std::string_view path, params;
  if (!istarts_with(arg, "TO:") || !split_path(arg.substr(3), path, params)) {
    return syntax("RCPT TO:<address>");
  }
  Command cmd;
  cmd.verb = Verb::kRcpt;
  if (auto err = for_each_param(params, ctx, [&](auto k, auto v, bool has) {
        return rcpt_param(k, v, has, ctx, cmd.rcpt);
      })) {
    return std::move(*err);
  }
  if (path.size() > kPathMax) {
    return address_error(AddressError::kPathTooLong, false);
  }
  path = strip_source_route(path);
  if (iequals(path, "postmaster")) {  // RFC 5321 §4.5.1: <Postmaster> without a domain
    cmd.mailbox.local = "postmaster";
  } else if (AddressError e = parse_mailbox(path, ctx.utf8_transaction, cmd.mailbox); e != AddressError::kNone) {
    return address_error(e, false);
  }
  ParseResult r;
  r.command = std::move(cmd);
  return r;
}

ParseResult parse_bdat(std::string_view arg, const ParseContext& ctx) {
  if (!ctx.chunking) {
    return fail(502, "5.5.1", "BDAT not available");
  }
  Command cmd;
  cmd.verb = Verb::kBdat;
  const size_t space = arg.find(' ');
  if (!parse_u64(arg.substr(0, space), cmd.chunk_size)) {
    return syntax("BDAT size [LAST]");
  }
  if (space != std::string_view::npos) {
    if (!iequals(trim_spaces(arg.substr(space)), "LAST")) {
      return syntax("BDAT size [LAST]");
    }
    cmd.last = true;
  }
  ParseResult r;
  r.command = std::move(cmd);
  return r;
}

bool is_printable_token(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) {
      return false;
    }
  }
  return !text.empty();
}

}  // namespace

std::span<const VerbInfo> verbs() { return kVerbs; }

const VerbInfo& verb_info(Verb verb) {
  // The table is in enum order; this keeps it so.
  static_assert(kVerbs[static_cast<size_t>(Verb::kAuth)].verb == Verb::kAuth);
  static_assert(kVerbs[static_cast<size_t>(Verb::kMail)].verb == Verb::kMail);
  return kVerbs[static_cast<size_t>(verb)];
}

bool decode_xtext(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size()) {
        return false;
      }
      unsigned value = 0;
      const auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec != std::errc() || ptr != text.data() + i + 3) {
        return false;
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return true;
}

ParseResult parse_command(std::string_view line, const ParseContext& context) {
  const size_t space = line.find(' ');
  const std::string_view name = line.substr(0, space);
  const std::string_view arg = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  const VerbInfo* info = nullptr;
  for (const VerbInfo& v : kVerbs) {
    if (iequals(name, v.name)) {
      info = &v;
      break;
    }
  }
  if (info == nullptr) {
    return fail(500, "5.5.2", "Error: command not recognized");
  }
  Command cmd;
  cmd.verb = info->verb;
  cmd.argument = trim_spaces(arg);
  switch (info->verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
      if (!is_printable_token(cmd.argument) || cmd.argument.size() > 255) {
        return syntax(std::string(info->name) + " hostname");
      }
      break;
    case Verb::kMail:
      return parse_mail(arg, context);
    case Verb::kRcpt:
      return parse_rcpt(arg, context);
    case Verb::kBdat:
      return parse_bdat(cmd.argument, context);
    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStartTls:
      if (!cmd.argument.empty()) {
        return syntax(info->name);
      }
      break;
    case Verb::kVrfy:
    case Verb::kExpn:
    case Verb::kAuth:
      if (cmd.argument.empty()) {
        return syntax(std::string(info->name) + " argument");
      }
      break;
    case Verb::kNoop:
    case Verb::kHelp:
      break;
  }
  ParseResult r;
  r.command = std::move(cmd);
  return r;
}

}  // namespace rm::smtp
