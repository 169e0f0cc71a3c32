// Fuzzes SPF: the record parser, macro checking and expansion in both modes, and the whole
// evaluator against a fake DNS whose answers come from the input. The first byte picks the
// client address and how the fake DNS answers; the rest is the zone: lines, each a TXT record
// (strings split at '|') or, when it has no "v=", a name for MX and PTR answers.
// Properties: nothing crashes or hangs; expansions stay within kExpansionBytesMax; an
// evaluation ends within the query backstop.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/assert.h"
#include "proto/spf/evaluator.h"
#include "proto/spf/macro.h"
#include "proto/spf/received_spf.h"
#include "proto/spf/record.h"

namespace {

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == by) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

void fuzz_macros(std::string_view text) {
  rm::spf::MacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = *rm::parse_ip("2001:db8::1");
  c.helo = text;  // a client-controlled value inside the expansion
  for (rm::spf::MacroMode mode :
       {rm::spf::MacroMode::kDomainSpec, rm::spf::MacroMode::kExplanation}) {
    const bool ok = rm::spf::check_macro_string(text, mode).ok();
    rm::Result<std::string> expanded = rm::spf::expand_macro_string(text, c, mode);
    if (expanded.ok()) {
      RM_ASSERT(expanded->size() <= rm::spf::kExpansionBytesMax);
    } else if (ok) {
      RM_ASSERT(expanded.status().message().find("too long") != std::string_view::npos);
    }
  }
}

rm::spf::Answer fake_answer(const rm::spf::Query& q, uint8_t mode,
                            const std::vector<std::string_view>& lines) {
  rm::spf::Answer a;
  const size_t kind = (std::hash<std::string>{}(q.name) + mode) % 7;
  if (kind == 0) {
    a.status = rm::spf::AnswerStatus::kNxDomain;
    return a;
  }
  if (kind == 1) {
    a.status = (mode & 0x40) ? rm::spf::AnswerStatus::kTemporary : rm::spf::AnswerStatus::kNoData;
    return a;
  }
  a.status = rm::spf::AnswerStatus::kRecords;
  for (std::string_view line : lines) {
    if (q.type == rm::spf::QueryType::kTxt) {
      std::vector<std::string> strings;
      for (std::string_view s : split(line, '|')) {
        strings.emplace_back(s);
      }
      a.txt.push_back(std::move(strings));
    } else if (line.find("v=") == std::string_view::npos) {
      a.names.emplace_back(line);
    }
  }
  a.addresses.push_back(
      *rm::parse_ip(q.type == rm::spf::QueryType::kAaaa ? "2001:db8::1" : "192.0.2.1"));
  return a;
}

void fuzz_evaluator(uint8_t mode, std::string_view zone) {
  const std::vector<std::string_view> lines = split(zone, '\n');
  const char* client = (mode & 1) ? "2001:db8::1" : (mode & 2) ? "::ffff:192.0.2.1" : "192.0.2.1";
  const std::string_view mail_from = (mode & 4) ? "" : "user@example.org";
  rm::spf::Evaluator ev(*rm::parse_ip(client), mail_from, "helo.example.org", "rx.example.net",
                        1700000000);
  rm::spf::Step step = ev.step();
  int steps = 0;
  while (!step.done()) {
    RM_ASSERT(++steps <= 1000);
    ev.answer(*step.query, fake_answer(*step.query, mode, lines));
    step = ev.step();
  }
  const std::string header =
      rm::spf::received_spf(step.outcome, ev.ip(), mail_from, "helo.example.org", "rx");
  RM_ASSERT(header.find('\n') == std::string::npos && header.find('\r') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16384) {
    return 0;
  }
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode % 3) {
    case 0: {
      rm::Result<rm::spf::Record> record = rm::spf::parse_record(input);
      if (record.ok()) {
        RM_ASSERT(record->mechanisms.size() <= rm::spf::kTermsMax);
      }
      break;
    }
    case 1:
      fuzz_macros(input);
      break;
    default:
      fuzz_evaluator(static_cast<uint8_t>(mode / 3), input);
      break;
  }
  return 0;
}
