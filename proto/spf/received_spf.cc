#include "proto/spf/received_spf.h"

#include <arpa/inet.h>

namespace rm::spf {
namespace {

// Keeps visible ASCII and spaces; everything else (CR, LF, controls, 8-bit) is dropped.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 0x20 && c <= 0x7e) {
      out += c;
    }
  }
  return out;
}

bool atext(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

// RFC 5322 dot-atom when it is one, else a quoted-string.
std::string value(std::string_view text) {
  const std::string clean = printable(text);
  bool plain = !clean.empty() && clean.front() != '.' && clean.back() != '.';
  for (char c : clean) {
    plain = plain && atext(c);
  }
  if (plain) {
    return clean;
  }
  std::string out = "\"";
  for (char c : clean) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

// A comment's text: no parentheses or backslashes that could unbalance it.
std::string comment_text(std::string_view text) {
  std::string out;
  for (char c : printable(text)) {
    out += (c == '(' || c == ')' || c == '\\') ? ' ' : c;
  }
  return out;
}

std::string ip_text(const IpAddress& ip) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), text, sizeof text);
  return text;
}

std::string comment(const Outcome& o, const std::string& ip, std::string_view who) {
  const std::string of = "domain of " + std::string(who);
  switch (o.result) {
    case ResultCode::kPass:
      return of + " designates " + ip + " as permitted sender";
    case ResultCode::kFail:
      return of + " does not designate " + ip + " as permitted sender";
    case ResultCode::kSoftFail:
      return "domain of transitioning " + std::string(who) + " does not designate " + ip +
             " as permitted sender";
    case ResultCode::kNeutral:
      return ip + " is neither permitted nor denied by " + of;
    case ResultCode::kNone:
      return of + " does not designate permitted sender hosts";
    case ResultCode::kTempError:
      return "temporary error looking up the SPF record of " + std::string(who);
    case ResultCode::kPermError:
      return "permanent error in the SPF record of " + std::string(who);
  }
  return of;
}

}  // namespace

std::string received_spf(const Outcome& outcome, const IpAddress& ip, std::string_view mail_from,
                         std::string_view helo, std::string_view receiver) {
  const std::string client = ip_text(ip);
  const std::string who =
      mail_from.empty() ? "postmaster@" + std::string(helo) : std::string(mail_from);
  std::string out(result_name(outcome.result));
  out += " (";
  if (!receiver.empty()) {
    out += comment_text(receiver) + ": ";
  }
  out += comment_text(comment(outcome, client, who)) + ")";
  out += " client-ip=" + client + ";";
  out += " envelope-from=" + value(mail_from.empty() ? "" : mail_from) + ";";
  out += " helo=" + value(helo) + ";";
  if (!receiver.empty()) {
    out += " receiver=" + value(receiver) + ";";
  }
  out += " identity=" + value(outcome.identity.empty() ? "mailfrom" : outcome.identity) + ";";
  if (!outcome.mechanism.empty() && outcome.mechanism != "default") {
    out += " mechanism=" + value(outcome.mechanism) + ";";
  }
  if (!outcome.problem.empty()) {
    out += " problem=" + value(outcome.problem) + ";";
  }
  out.pop_back();  // the last ';'
  return out;
}

}  // namespace rm::spf
