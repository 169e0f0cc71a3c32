// Fuzzes the SMTP command path: the line splitter over raw input, then the command parser on
// each line under every parse context the session can be in.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/assert.h"
#include "proto/smtp/command.h"
#include "proto/smtp/line_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  rm::smtp::ParseContext ctx;
  ctx.esmtp = flags & 1;
  ctx.smtputf8 = flags & 2;
  ctx.dsn = flags & 4;
  ctx.chunking = flags & 8;
  ctx.utf8_transaction = flags & 16;
  ctx.size_max = (flags & 32) ? 1000 : 0;
  const bool normalize = flags & 64;
  for (int lines = 0; !input.empty() && lines < 1000; ++lines) {
    rm::smtp::LineResult r = rm::smtp::next_line(input, 512, normalize);
    RM_ASSERT(r.consumed <= input.size());
    if (r.status == rm::smtp::LineStatus::kNeedMore) {
      break;
    }
    if (r.status == rm::smtp::LineStatus::kLine) {
      RM_ASSERT(r.line.size() <= 512);
      rm::smtp::ParseResult parsed = rm::smtp::parse_command(r.line, ctx);
      RM_ASSERT(parsed.command.has_value() || (parsed.error.code >= 500 && parsed.error.code < 600));
      input.remove_prefix(r.consumed);
    } else {
      input.remove_prefix(r.consumed != 0 ? r.consumed : rm::smtp::skip_past_line(input));
    }
  }
  return 0;
}
