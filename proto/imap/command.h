// The IMAP command parser (IMAP4rev2 RFC 9051 and IMAP4rev1 RFC 3501, with LITERAL+,
// ID, ENABLE, UNSELECT, MOVE, CONDSTORE, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE,
// CREATE-SPECIAL-USE, ESEARCH, SEARCHRES, BINARY, MULTIAPPEND, SASL-IR, UIDPLUS).
//
// One framed command (command_reader.h) in, an ImapCommand or a ParseError out:
//
//   ParseResult r = parse_imap_command(reader.command(), options);
//   if (!r.command) send(r.error.tag.empty() ? "*" : r.error.tag, " BAD ", r.error.text);
//
// The command table (commands()) says in which session states a command is allowed and
// whether it takes the UID prefix; the parser does not know the session's state, so a
// command in the wrong state parses fine and the session refuses it.
// Arguments are decoded: quoted strings unescaped, literals taken out, mailbox names
// converted to UTF-8 (from modified UTF-7 unless ParseOptions::utf8) with INBOX in upper
// case, search needles case-folded, dates converted. APPEND message data is a string_view
// into the framed command's text, so the FramedCommand must outlive the ImapCommand.
// Untrusted input: yes — every client command. Counts and sizes are capped (constants
// below and in search.h / flags.h / sequence_set.h). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/imap/command_reader.h"
#include "proto/imap/date_time.h"
#include "proto/imap/flags.h"
#include "proto/imap/search.h"
#include "proto/imap/sequence_set.h"

namespace rm::imap {

inline constexpr size_t kMailboxNameBytesMax = 1024;
inline constexpr size_t kListPatternsMax = 64;
inline constexpr size_t kFetchItemsMax = 128;
inline constexpr size_t kHeaderFieldsMax = 128;     // HEADER.FIELDS (...) names
inline constexpr size_t kSectionPartDepthMax = 32;  // 1.2.3... in BODY[...]
inline constexpr size_t kIdFieldsMax = 30;          // RFC 2971 §3.3
inline constexpr size_t kEnableCapsMax = 32;
inline constexpr size_t kAppendMessagesMax = 64;  // MULTIAPPEND

enum class CommandKind : uint8_t {
  kCapability,
  kNoop,
  kLogout,
  kStartTls,
  kAuthenticate,
  kLogin,
  kId,
  kEnable,
  kNamespace,
  kSelect,
  kExamine,
  kCreate,
  kDelete,
  kRename,
  kSubscribe,
  kUnsubscribe,
  kList,
  kLsub,
  kStatus,
  kAppend,
  kCheck,
  kClose,
  kUnselect,
  kExpunge,
  kSearch,
  kFetch,
  kStore,
  kCopy,
  kMove,
  kIdle,
};

enum CommandFlags : uint32_t {
  kInNotAuthenticated = 1u << 0,  // allowed before login
  kInAuthenticated = 1u << 1,     // allowed once logged in
  kInSelected = 1u << 2,          // allowed with a mailbox selected
  kUidForm = 1u << 3,             // "UID <name>" exists (FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE)
};

struct CommandInfo {
  std::string_view name;
  CommandKind kind;
  uint32_t flags;
};
std::span<const CommandInfo> commands();
const CommandInfo& command_info(CommandKind kind);

struct AuthenticateArgs {
  std::string mechanism;                        // upper-cased
  std::optional<std::string> initial_response;  // SASL-IR, base64 as sent ("=" = empty)
};

struct LoginArgs {
  std::string user;
  std::string password;
};

struct IdArgs {  // RFC 2971; NIL gives no fields
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
};

enum ListSelection : uint32_t {  // LIST-EXTENDED selection options (RFC 5258, 6154)
  kListSubscribed = 1u << 0,
  kListRemote = 1u << 1,
  kListRecursiveMatch = 1u << 2,
  kListSpecialUse = 1u << 3,
};

enum ListReturn : uint32_t {  // LIST RETURN options (RFC 5258, 5819, 6154)
  kListReturnSubscribed = 1u << 0,
  kListReturnChildren = 1u << 1,
  kListReturnSpecialUse = 1u << 2,
  kListReturnStatus = 1u << 3,  // with ListArgs::status_items
};

enum StatusItem : uint32_t {
  kStatusMessages = 1u << 0,
  kStatusUidNext = 1u << 1,
  kStatusUidValidity = 1u << 2,
  kStatusUnseen = 1u << 3,
  kStatusDeleted = 1u << 4,
  kStatusSize = 1u << 5,
  kStatusRecent = 1u << 6,         // rev1
  kStatusHighestModSeq = 1u << 7,  // CONDSTORE
};

struct ListArgs {
  std::string reference;
  std::vector<std::string> patterns;  // one for basic LIST; may hold '%' and '*'
  uint32_t selection = 0;             // ListSelection bits
  uint32_t returns = 0;               // ListReturn bits
  uint32_t status_items = 0;          // StatusItem bits for RETURN (STATUS (...))
  bool extended = false;              // selection options, patterns list or RETURN used
};

struct AppendMessage {
  FlagList flags;
  std::optional<ParsedDateTime> date;  // the internal date to set, when given
  std::string_view data;               // the message, inside the FramedCommand's text
  bool binary = false;                 // sent as literal8 (RFC 3516)
};

struct SearchArgs {
  bool esearch = false;  // RETURN (...) given: answer with ESEARCH (RFC 4731)
  uint32_t returns = 0;  // SearchReturn bits; RETURN () means ALL
  std::string charset;   // upper-cased; empty when not given
  SearchKey key;         // kAnd of the keys given
};

enum class SectionText : uint8_t { kNone, kHeader, kHeaderFields, kHeaderFieldsNot, kText, kMime };

struct Section {
  std::vector<uint32_t> part;  // "1.2.3"; empty for the whole message
  SectionText text = SectionText::kNone;
  std::vector<std::string> fields;  // HEADER.FIELDS[.NOT] names, upper-cased
  bool operator==(const Section&) const = default;
};

enum class FetchAttr : uint8_t {
  kEnvelope,
  kFlags,
  kInternalDate,
  kRfc822,
  kRfc822Header,
  kRfc822Text,
  kRfc822Size,
  kBody,  // BODY without section: the non-extensible BODYSTRUCTURE
  kBodyStructure,
  kUid,
  kBodySection,  // BODY[section]<partial>, BODY.PEEK[...]
  kBinary,       // BINARY[part]<partial>, BINARY.PEEK[...]
  kBinarySize,   // BINARY.SIZE[part]
  kModSeq,
};

struct FetchItem {
  FetchAttr attr = FetchAttr::kFlags;
  bool peek = false;                                     // .PEEK: do not set \Seen
  Section section;                                       // kBodySection, kBinary, kBinarySize
  std::optional<std::pair<uint32_t, uint32_t>> partial;  // <offset.length>
};

struct FetchArgs {
  std::vector<FetchItem> items;           // macros expanded; UID added for UID FETCH and
                                          // MODSEQ for CHANGEDSINCE (RFC 7162 §3.1.4.1)
  uint32_t attrs = 0;                     // bit (1 << FetchAttr) for each attr present
  std::optional<uint64_t> changed_since;  // CHANGEDSINCE (RFC 7162)
  bool vanished = false;                  // VANISHED (RFC 7162 QRESYNC)
  bool has(FetchAttr a) const { return (attrs >> static_cast<unsigned>(a)) & 1u; }
  // True when an item sets \Seen (BODY[...] or BINARY[...] without .PEEK, RFC822, RFC822.TEXT).
  bool sets_seen() const;
};

enum class StoreMode : uint8_t { kReplace, kAdd, kRemove };  // FLAGS, +FLAGS, -FLAGS

struct StoreArgs {
  StoreMode mode = StoreMode::kReplace;
  bool silent = false;
  FlagList flags;
  std::optional<uint64_t> unchanged_since;  // UNCHANGEDSINCE (RFC 7162)
};

struct ImapCommand {
  std::string tag;
  CommandKind kind = CommandKind::kNoop;
  bool uid = false;         // "UID FETCH" and so on; for EXPUNGE: UID EXPUNGE with `sequence`
  std::string mailbox;      // SELECT EXAMINE CREATE DELETE RENAME(old) SUBSCRIBE UNSUBSCRIBE
                            // STATUS APPEND and COPY/MOVE (destination)
  std::string new_mailbox;  // RENAME
  bool condstore = false;   // SELECT/EXAMINE (CONDSTORE)
  std::vector<std::string> special_use;  // CREATE ... (USE (\Drafts ...))
  SequenceSet sequence;                  // FETCH STORE COPY MOVE, UID EXPUNGE
  AuthenticateArgs authenticate;
  LoginArgs login;
  IdArgs id;
  std::vector<std::string> enable;  // capability names, upper-cased
  ListArgs list;                    // LIST and LSUB (reference and one pattern)
  uint32_t status_items = 0;        // STATUS
  std::vector<AppendMessage> append;
  SearchArgs search;
  FetchArgs fetch;
  StoreArgs store;
};

struct ParseOptions {
  // Mailbox names are UTF-8 (IMAP4rev2, or UTF8=ACCEPT enabled); otherwise they are modified
  // UTF-7 and are decoded to UTF-8 here.
  bool utf8 = true;
  char delimiter = '/';  // the hierarchy delimiter, for INBOX normalization
};

enum class ParseErrorKind : uint8_t { kSyntax, kUnknownCommand, kBadCharset, kTooMany };

struct ParseError {
  ParseErrorKind kind = ParseErrorKind::kSyntax;
  std::string tag;        // empty when no valid tag could be read: answer "* BAD"
  std::string text;       // short human text for "TAG BAD text"
  std::string_view code;  // a response code to add ("BADCHARSET", "LIMIT") or empty
};

struct ParseResult {
  std::optional<ImapCommand> command;  // set on success
  ParseError error;                    // set when command is empty
};

// The whole answer line for an error, CRLF included: "a1 BAD text\r\n",
// "* BAD text\r\n" without a tag, "a2 BAD [BADCHARSET] text\r\n" with a code, and for
// the reader's errors "a3 NO [TOOBIG] text\r\n".
std::string error_response(const ParseError& error);
std::string error_response(const ReaderError& error);

ParseResult parse_imap_command(const FramedCommand& framed, const ParseOptions& options = {});
// For tests and tools: the text alone (literals are found from their headers).
ParseResult parse_imap_command(std::string_view text, const ParseOptions& options = {});

}  // namespace rm::imap
