// SPF evaluator (RFC 7208 check_host()), sans-I/O: it asks for DNS answers one at a time
// and the caller supplies them, so the same code runs on a shard, in tests and in a fuzzer.
//
//   spf::Evaluator spf(ip, "user@example.org", "mx.example.org", "mail.example.net", now_s);
//   for (spf::Step step = spf.step(); !step.done(); step = spf.step()) {
//     spf.answer(*step.query, lookup(step.query->name, step.query->type));
//   }
//   const spf::Outcome& outcome = spf.step().outcome;  // result, explanation, mechanism
//
// The identity checked is MAIL FROM; when it is empty, the HELO name (with the sender
// "postmaster@" + HELO, §2.4). An IPv4-mapped IPv6 client address is checked as IPv4.
// Limits (§4.6.4): 10 DNS-querying terms (include, a, mx, ptr, exists, redirect), 2 void
// lookups (NXDOMAIN or no records), 10 MX names per mx (more: permerror), 10 PTR names per
// ptr or %{p} (more: ignored). Answers are remembered by (type, name): asking twice costs one
// query. Each step() re-runs the evaluation from the start over the answers so far, which
// keeps the code direct; the limits above bound that to a few hundred cheap replays.
// Untrusted input: the SMTP client's identities and every DNS answer.
// Thread-safety: none; one evaluation per object.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net/cidr.h"
#include "proto/spf/record.h"

namespace rm::spf {

struct Limits {
  unsigned dns_terms_max = 10;
  unsigned void_lookups_max = 2;
  unsigned mx_names_max = 10;
  unsigned ptr_names_max = 10;
  unsigned queries_max = 400;  // a backstop over everything asked
};

enum class ResultCode : uint8_t {
  kNone,
  kNeutral,
  kPass,
  kFail,
  kSoftFail,
  kTempError,
  kPermError
};
std::string_view result_name(ResultCode result);

enum class QueryType : uint8_t { kTxt, kA, kAaaa, kMx, kPtr };
std::string_view query_type_name(QueryType type);

struct Query {
  std::string name;  // lower case, no trailing dot
  QueryType type = QueryType::kTxt;
  bool operator==(const Query&) const = default;
};

enum class AnswerStatus : uint8_t {
  kRecords,    // the records asked for are in the answer
  kNxDomain,   // the name does not exist
  kNoData,     // the name exists without records of the type
  kTemporary,  // SERVFAIL, timeout, unreadable answer
};

struct Answer {
  AnswerStatus status = AnswerStatus::kNoData;
  std::vector<std::vector<std::string>> txt;  // TXT: each record's strings, as sent
  std::vector<std::string> names;             // MX exchanges, PTR targets
  std::vector<IpAddress> addresses;           // A, AAAA
};

struct Outcome {
  ResultCode result = ResultCode::kNone;
  std::string explanation;  // for fail: the exp= text, if the domain published one
  std::string mechanism;    // the term that matched ("-all", "include:x"), or "default"
  std::string domain;       // the domain whose record gave the result
  std::string problem;      // why, for temperror and permerror
  std::string identity;     // "mailfrom" or "helo"
};

struct Step {
  std::optional<Query> query;  // set: answer it, then call step() again
  Outcome outcome;             // set when query is not
  bool done() const { return !query.has_value(); }
};

class Evaluator {
 public:
  // `mail_from` may be empty ("<>"); `receiver` is this server's name for %{r}.
  Evaluator(const IpAddress& ip, std::string_view mail_from, std::string_view helo,
            std::string_view receiver, int64_t now_unix_s, const Limits& limits = {});

  Step step();
  // The answer to the query the last step() asked for (any other answer is kept too).
  void answer(const Query& query, Answer answer);

  const std::string& sender() const { return sender_; }
  const std::string& identity_domain() const { return domain_; }
  const IpAddress& ip() const { return ip_; }

 private:
  struct Run;
  friend struct Run;
  const Answer* find(const Query& query) const;

  IpAddress ip_;
  std::string sender_;
  std::string local_part_;
  std::string domain_;
  std::string helo_;
  std::string receiver_;
  bool helo_identity_ = false;
  int64_t now_unix_s_;
  Limits limits_;
  std::map<std::pair<QueryType, std::string>, Answer> answers_;
};

}  // namespace rm::spf
