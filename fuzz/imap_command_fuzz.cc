// Fuzzes the IMAP command path: the framing reader over raw client bytes (fed whole and in
// small chunks, which must give the same events), then the parser on every framed command
// and, for what parses, the helpers the session would call next (sequence-set resolution,
// search evaluation, mailbox-name conversion, string quoting).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/assert.h"
#include "proto/imap/command.h"
#include "proto/imap/command_reader.h"
#include "proto/imap/mailbox_name.h"
#include "proto/imap/response.h"
#include "proto/imap/search.h"

namespace {

using namespace rm::imap;

class Subject : public SearchSubject {
 public:
  explicit Subject(std::string_view text) : text_(text) {
    values_.emplace_back(text.substr(0, text.size() / 2));
  }
  uint32_t sequence_number() const override { return 3; }
  uint32_t uid() const override { return 42; }
  uint32_t system_flags() const override { return kFlagSeen | kFlagRecent; }
  bool has_keyword(std::string_view k) const override { return keyword_equal(k, "$Junk"); }
  uint64_t size() const override { return text_.size(); }
  int64_t internal_date() const override { return 837596665; }
  uint64_t modseq() const override { return 9; }
  std::span<const std::string> header_values(std::string_view) override { return values_; }
  std::string_view body_text() override { return text_; }
  std::string_view full_text() override { return text_; }

 private:
  std::string_view text_;
  std::vector<std::string> values_;
};

void use_command(const ImapCommand& cmd, std::string_view text) {
  if (!cmd.sequence.is_saved_result()) {
    const ResolvedSet r = cmd.sequence.resolve(1000);
    uint32_t previous = 0;
    int steps = 0;
    for (uint32_t n : r) {
      RM_ASSERT(n > previous && n <= 1000 && r.contains(n));
      RM_ASSERT(cmd.sequence.contains(n, 1000));
      previous = n;
      if (++steps == 50) {
        break;
      }
    }
  }
  if (cmd.kind == CommandKind::kSearch) {
    Subject subject(text);
    SearchContext context{.message_count = 10, .uid_max = 100, .zone_minutes = -420};
    const bool plain = search_matches(cmd.search.key, subject, context);
    SearchKey prepared = cmd.search.key;
    prepare_search(prepared, context);
    RM_ASSERT(search_matches(prepared, subject, context) == plain);
  }
  if (!cmd.mailbox.empty()) {
    std::optional<std::string> encoded = mutf7_encode(cmd.mailbox);
    RM_ASSERT(encoded.has_value());  // the parser gave UTF-8
    std::optional<std::string> decoded = mutf7_decode(*encoded);
    RM_ASSERT(decoded.has_value() && *decoded == cmd.mailbox);
    std::string out;
    append_astring(out, cmd.mailbox);
  }
}

struct Event {
  ReaderEvent kind;
  std::string text;
  bool operator==(const Event&) const = default;
};

std::vector<Event> frame(std::string_view input, const ImapReaderLimits& limits, size_t chunk,
                         const ParseOptions& options, bool parse) {
  ImapCommandReader reader(limits);
  std::vector<Event> events;
  for (size_t i = 0; i < input.size(); i += chunk) {
    reader.feed(input.substr(i, chunk));
    for (;;) {
      const ReaderEvent e = reader.next();
      if (e == ReaderEvent::kNeedMore) {
        break;
      }
      Event ev{e, {}};
      if (e == ReaderEvent::kCommand) {
        const FramedCommand& c = reader.command();
        RM_ASSERT(c.literals.size() <= limits.literals_per_command_max);
        for (const LiteralSpan& l : c.literals) {
          RM_ASSERT(l.offset + l.size <= c.text.size());
        }
        ev.text = c.text;
        if (parse) {
          ParseResult r = parse_imap_command(c, options);
          if (r.command) {
            use_command(*r.command, c.text);
          } else {
            RM_ASSERT(!r.error.text.empty());
          }
        }
      } else if (e == ReaderEvent::kError) {
        ev.text = reader.error().tag + std::string(reader.error().code);
      }
      events.push_back(std::move(ev));
    }
    RM_ASSERT(reader.buffered_bytes() <=
              limits.command_text_bytes_max + 2 + chunk + limits.append_literal_bytes_max);
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const uint8_t flags = data[0];
  const size_t chunk = 1 + data[1] % 16;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  ImapReaderLimits limits;
  limits.command_text_bytes_max = (flags & 1) ? 64 : 4096;
  limits.literal_bytes_max = (flags & 2) ? 8 : 1024;
  limits.append_literal_bytes_max = 2048;
  limits.literals_per_command_max = (flags & 4) ? 2 : 16;
  limits.refused_literal_skip_bytes_max = 512;
  limits.literal_plus = (flags & 8) == 0;
  ParseOptions options;
  options.utf8 = (flags & 16) == 0;
  const std::vector<Event> whole = frame(input, limits, input.size() + 1, options, true);
  const std::vector<Event> chunked = frame(input, limits, chunk, options, false);
  RM_ASSERT(whole == chunked);
  return 0;
}
