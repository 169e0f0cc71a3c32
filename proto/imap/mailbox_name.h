// IMAP mailbox names: INBOX normalization and modified UTF-7 (RFC 3501 §5.1.3).
//
// IMAP4rev2 clients (and rev1 clients that ENABLE UTF8=ACCEPT) send mailbox names in UTF-8;
// older rev1 clients send them in modified UTF-7 ("&AOk-t&AOk-" for "été"). The server keeps
// names in UTF-8 and converts at the edge with these helpers. "INBOX" is case-insensitive:
// normalize_inbox() rewrites "inbox", "Inbox/Sub" (with the given hierarchy delimiter) to
// "INBOX", "INBOX/Sub".
// Untrusted input: yes (mailbox names from commands). Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rm::imap {

// Modified UTF-7 to UTF-8. nullopt when the text is not valid modified UTF-7 (a bad base64
// character, an unterminated "&...", a needlessly encoded printable ASCII character, a bad
// surrogate, bits left over).
std::optional<std::string> mutf7_decode(std::string_view text);

// UTF-8 to modified UTF-7. nullopt when `utf8` is not valid UTF-8.
std::optional<std::string> mutf7_encode(std::string_view utf8);

// "INBOX" whatever its case, alone or followed by `delimiter`, becomes upper case.
std::string normalize_inbox(std::string_view name, char delimiter = '/');

// True for valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace rm::imap
