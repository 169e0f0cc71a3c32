#include "proto/dmarc/record.h"

#include <limits>

namespace rm::dmarc {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_wsp(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    x = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
    y = (y >= 'A' && y <= 'Z') ? static_cast<char>(y - 'A' + 'a') : y;
    if (x != y) {
      return false;
    }
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Splits `s` at `sep`, calling fn(piece) for each piece (untrimmed), at most `max` times.
template <typename Fn>
void split(std::string_view s, char sep, size_t max, Fn fn) {
  for (size_t count = 0; count < max; ++count) {
    size_t at = s.find(sep);
    fn(s.substr(0, at));
    if (at == std::string_view::npos) {
      return;
    }
    s.remove_prefix(at + 1);
  }
}

std::optional<Policy> parse_policy(std::string_view v) {
  if (iequals(v, "none")) {
    return Policy::kNone;
  }
  if (iequals(v, "quarantine")) {
    return Policy::kQuarantine;
  }
  if (iequals(v, "reject")) {
    return Policy::kReject;
  }
  return std::nullopt;
}

std::optional<AlignmentMode> parse_alignment(std::string_view v) {
  if (iequals(v, "r")) {
    return AlignmentMode::kRelaxed;
  }
  if (iequals(v, "s")) {
    return AlignmentMode::kStrict;
  }
  return std::nullopt;
}

// 1*digits up to `max`; nullopt when not a number or larger.
std::optional<uint64_t> parse_number(std::string_view v, uint64_t max) {
  if (v.empty()) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max) {
      return std::nullopt;
    }
  }
  return n;
}

// A URI as §6.4 needs it: scheme ":" something, no white space, with an optional "!size[kmgt]".
std::optional<ReportUri> parse_report_uri(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.size() > kReportUriBytesMax || !is_alpha(v.front())) {
    return std::nullopt;
  }
  ReportUri out;
  size_t bang = v.rfind('!');
  if (bang != std::string_view::npos) {
    std::string_view size = v.substr(bang + 1);
    uint64_t unit = 1;
    if (!size.empty() && !is_digit(size.back())) {
      static constexpr std::string_view kUnits = "kmgt";
      size_t u = kUnits.find(static_cast<char>(size.back() | 0x20));
      if (u == std::string_view::npos) {
        return std::nullopt;
      }
      unit = uint64_t{1} << (10 * (u + 1));
      size.remove_suffix(1);
    }
    std::optional<uint64_t> n = parse_number(size, std::numeric_limits<uint64_t>::max() >> 41);
    if (!n) {
      return std::nullopt;
    }
    out.size_max_bytes = *n * unit;
    v = v.substr(0, bang);
  }
  size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon + 1 == v.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool scheme_char = is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
    if ((i < colon && !scheme_char) || static_cast<unsigned char>(c) <= ' ' || c == 0x7F) {
      return std::nullopt;
    }
  }
  out.uri.assign(v);
  return out;
}

std::vector<ReportUri> parse_report_uris(std::string_view v) {
  std::vector<ReportUri> out;
  split(v, ',', kReportUrisMax, [&](std::string_view piece) {
    if (std::optional<ReportUri> uri = parse_report_uri(piece)) {
      out.push_back(std::move(*uri));
    }
  });
  return out;
}

std::optional<uint8_t> parse_failure_options(std::string_view v) {
  uint8_t flags = 0;
  bool ok = true;
  split(v, ':', 8, [&](std::string_view piece) {
    piece = trim(piece);
    if (piece == "0") {
      flags |= kFailureAll;
    } else if (piece == "1") {
      flags |= kFailureAny;
    } else if (iequals(piece, "d")) {
      flags |= kFailureDkim;
    } else if (iequals(piece, "s")) {
      flags |= kFailureSpf;
    } else {
      ok = false;
    }
  });
  return ok && flags != 0 ? std::optional<uint8_t>(flags) : std::nullopt;
}

std::optional<std::vector<std::string>> parse_report_formats(std::string_view v) {
  std::vector<std::string> out;
  bool ok = true;
  split(v, ':', kReportFormatsMax, [&](std::string_view piece) {
    piece = trim(piece);
    for (char c : piece) {
      ok = ok && (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_');
    }
    ok = ok && !piece.empty();
    out.emplace_back(piece);
  });
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

// Per-tag "seen" bits so that a repeated tag keeps its first value.
enum Seen : uint32_t {
  kSeenP = 1 << 0,
  kSeenSp = 1 << 1,
  kSeenNp = 1 << 2,
  kSeenAdkim = 1 << 3,
  kSeenAspf = 1 << 4,
  kSeenPct = 1 << 5,
  kSeenRua = 1 << 6,
  kSeenRuf = 1 << 7,
  kSeenFo = 1 << 8,
  kSeenRf = 1 << 9,
  kSeenRi = 1 << 10,
};

struct ParseState {
  Record record;
  uint32_t seen = 0;
  bool p_ok = false;
  bool sp_bad = false;

  bool first(Seen bit) {
    bool was = seen & bit;
    seen |= bit;
    return !was;
  }
  void apply(std::string_view name, std::string_view value);
};

void ParseState::apply(std::string_view name, std::string_view value) {
  Record& r = record;
  if (iequals(name, "p") && first(kSeenP)) {
    std::optional<Policy> p = parse_policy(value);
    p_ok = p.has_value();
    r.policy = p.value_or(Policy::kNone);
  } else if (iequals(name, "sp") && first(kSeenSp)) {
    r.subdomain_policy = parse_policy(value);
    sp_bad = !r.subdomain_policy.has_value();
  } else if (iequals(name, "np") && first(kSeenNp)) {
    r.nonexistent_policy = parse_policy(value);  // RFC 9091: a bad np= is ignored
  } else if (iequals(name, "adkim") && first(kSeenAdkim)) {
    r.dkim_alignment = parse_alignment(value).value_or(AlignmentMode::kRelaxed);
  } else if (iequals(name, "aspf") && first(kSeenAspf)) {
    r.spf_alignment = parse_alignment(value).value_or(AlignmentMode::kRelaxed);
  } else if (iequals(name, "pct") && first(kSeenPct)) {
    r.percent = static_cast<uint8_t>(parse_number(value, 100).value_or(100));
  } else if (iequals(name, "rua") && first(kSeenRua)) {
    r.aggregate_reports = parse_report_uris(value);
  } else if (iequals(name, "ruf") && first(kSeenRuf)) {
    r.failure_reports = parse_report_uris(value);
  } else if (iequals(name, "fo") && first(kSeenFo)) {
    r.failure_options = parse_failure_options(value).value_or(kFailureAll);
  } else if (iequals(name, "rf") && first(kSeenRf)) {
    r.report_formats = parse_report_formats(value).value_or(std::vector<std::string>{"afrf"});
  } else if (iequals(name, "ri") && first(kSeenRi)) {
    r.report_interval_s = static_cast<uint32_t>(
        parse_number(value, std::numeric_limits<uint32_t>::max()).value_or(86400));
  }
}

}  // namespace

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::kNone:
      return "none";
    case Policy::kQuarantine:
      return "quarantine";
    case Policy::kReject:
      return "reject";
  }
  return "none";
}

std::optional<Record> parse_record(std::string_view text) {
  // The first tag must be v=DMARC1 (the version value is case-sensitive in the ABNF).
  size_t semi = text.find(';');
  std::string_view first = text.substr(0, semi);
  size_t eq = first.find('=');
  if (eq == std::string_view::npos || !iequals(trim(first.substr(0, eq)), "v") ||
      trim(first.substr(eq + 1)) != "DMARC1") {
    return std::nullopt;
  }
  ParseState state;
  if (text.size() > kRecordBytesMax) {
    return state.record;  // policy_valid stays false
  }
  std::string_view rest =
      semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
  // Bounded by the record length: every tag needs at least one ';'.
  split(rest, ';', kRecordBytesMax, [&](std::string_view tag) {
    size_t at = tag.find('=');
    if (at == std::string_view::npos) {
      return;  // a syntax error in the remainder is ignored (§6.3)
    }
    state.apply(trim(tag.substr(0, at)), trim(tag.substr(at + 1)));
  });
  state.record.policy_valid = state.p_ok && !state.sp_bad;
  return state.record;
}

}  // namespace rm::dmarc
