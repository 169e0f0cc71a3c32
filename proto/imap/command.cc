#include "proto/imap/command.h"

#include <cctype>

#include "proto/imap/char_class.h"
#include "proto/imap/mailbox_name.h"

namespace rm::imap {
namespace {

constexpr uint32_t kAny = kInNotAuthenticated | kInAuthenticated | kInSelected;
constexpr uint32_t kAuthed = kInAuthenticated | kInSelected;

constexpr CommandInfo kCommands[] = {
    {"CAPABILITY", CommandKind::kCapability, kAny},
    {"NOOP", CommandKind::kNoop, kAny},
    {"LOGOUT", CommandKind::kLogout, kAny},
    {"STARTTLS", CommandKind::kStartTls, kInNotAuthenticated},
    {"AUTHENTICATE", CommandKind::kAuthenticate, kInNotAuthenticated},
    {"LOGIN", CommandKind::kLogin, kInNotAuthenticated},
    {"ID", CommandKind::kId, kAny},
    {"ENABLE", CommandKind::kEnable, kAuthed},
    {"NAMESPACE", CommandKind::kNamespace, kAuthed},
    {"SELECT", CommandKind::kSelect, kAuthed},
    {"EXAMINE", CommandKind::kExamine, kAuthed},
    {"CREATE", CommandKind::kCreate, kAuthed},
    {"DELETE", CommandKind::kDelete, kAuthed},
    {"RENAME", CommandKind::kRename, kAuthed},
    {"SUBSCRIBE", CommandKind::kSubscribe, kAuthed},
    {"UNSUBSCRIBE", CommandKind::kUnsubscribe, kAuthed},
    {"LIST", CommandKind::kList, kAuthed},
    {"LSUB", CommandKind::kLsub, kAuthed},
    {"STATUS", CommandKind::kStatus, kAuthed},
    {"APPEND", CommandKind::kAppend, kAuthed},
    {"CHECK", CommandKind::kCheck, kInSelected},
    {"CLOSE", CommandKind::kClose, kInSelected},
    {"UNSELECT", CommandKind::kUnselect, kInSelected},
    {"EXPUNGE", CommandKind::kExpunge, kInSelected | kUidForm},
    {"SEARCH", CommandKind::kSearch, kInSelected | kUidForm},
    {"FETCH", CommandKind::kFetch, kInSelected | kUidForm},
    {"STORE", CommandKind::kStore, kInSelected | kUidForm},
    {"COPY", CommandKind::kCopy, kInSelected | kUidForm},
    {"MOVE", CommandKind::kMove, kInSelected | kUidForm},
    {"IDLE", CommandKind::kIdle, kAuthed},
};

// ASTRING-CHAR, and 8-bit bytes (UTF-8 mailbox names sent as atoms; validated later).
bool is_astring_char(char c) {
  return is_astring_char7(c) || static_cast<unsigned char>(c) >= 0x80;  // UTF-8 (rev2)
}

bool is_list_char(char c) {
  return is_astring_char(c) || c == '%' || c == '*';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = upper(c);
  }
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t k = 0; k < a.size(); ++k) {
    if (upper(a[k]) != upper(b[k])) {
      return false;
    }
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : s_(text), options_(options) {}

  std::string_view error() const { return error_; }
  bool too_many() const { return too_many_; }
  bool bad_charset() const { return bad_charset_; }

  bool parse(ImapCommand& cmd, std::string_view name);

  void skip(size_t n) { pos_ += n; }

 private:
  // --- lexical ---
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    if (peek() != c || at_end()) {
      return false;
    }
    ++pos_;
    return true;
  }
  bool fail(std::string_view message) {
    if (error_.empty()) {
      error_ = message;
    }
    return false;
  }
  bool limit(std::string_view message) {
    too_many_ = true;
    return fail(message);
  }
  bool sp() { return eat(' ') || fail("Expected a space"); }
  bool expect(char c, std::string_view message) { return eat(c) || fail(message); }
  std::string_view take_while(bool (*pred)(char)) {
    const size_t start = pos_;
    while (!at_end() && pred(s_[pos_])) {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }
  std::string_view atom() { return take_while(is_atom_char); }
  // A keyword-like token: an atom, upper-cased into `out`'s view.
  bool word(std::string_view expected) {
    const size_t start = pos_;
    if (iequal(atom(), expected)) {
      return true;
    }
    pos_ = start;
    return false;
  }

  bool number64(uint64_t& out);
  bool number32(uint32_t& out);
  bool nz_number32(uint32_t& out);
  bool quoted(std::string& out);
  bool literal(std::string_view& out, bool allow_binary, bool* binary);
  bool string(std::string& out);
  bool astring(std::string& out);
  bool nstring(std::optional<std::string>& out);
  bool mailbox(std::string& out);
  bool list_mailbox(std::string& out);
  bool convert_name(std::string& name);
  bool flag(FlagList& flags);
  bool flag_list(FlagList& flags);
  bool search_date(int32_t& day);
  bool sequence_set(SequenceSet& set);

  // --- commands ---
  bool authenticate(ImapCommand& cmd);
  bool id(ImapCommand& cmd);
  bool enable(ImapCommand& cmd);
  bool select(ImapCommand& cmd);
  bool create(ImapCommand& cmd);
  bool list(ImapCommand& cmd);
  bool list_select_options(ListArgs& args);
  bool list_return_options(ListArgs& args);
  bool status_items(uint32_t& items);
  bool append(ImapCommand& cmd);
  bool search(ImapCommand& cmd);
  bool search_key(SearchKey& key, size_t depth);
  bool search_key_word(SearchKey& key, std::string_view name, size_t depth);
  bool fetch(ImapCommand& cmd);
  bool fetch_item(FetchArgs& args);
  bool fetch_section(Section& section);
  bool fetch_binary_section(Section& section);
  bool fetch_partial(FetchItem& item);
  bool fetch_modifiers(FetchArgs& args);
  bool store(ImapCommand& cmd);

  std::string_view s_;
  size_t pos_ = 0;
  const ParseOptions& options_;
  std::string error_;
  bool too_many_ = false;
  bool bad_charset_ = false;
  size_t search_keys_ = 0;
};

bool Parser::number64(uint64_t& out) {
  const std::string_view digits = take_while(is_digit);
  if (digits.empty() || digits.size() > 19) {
    return fail("Expected a number");
  }
  out = 0;
  for (char c : digits) {
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

bool Parser::number32(uint32_t& out) {
  uint64_t v;
  if (!number64(v) || v > 0xffffffffu) {
    return fail("Expected a 32-bit number");
  }
  out = static_cast<uint32_t>(v);
  return true;
}

bool Parser::nz_number32(uint32_t& out) {
  return number32(out) && (out != 0 || fail("Expected a non-zero number"));
}

bool Parser::quoted(std::string& out) {
  if (!eat('"')) {
    return fail("Expected a quoted string");
  }
  out.clear();
  while (!at_end()) {
    const char c = s_[pos_++];
    if (c == '"') {
      return true;
    }
    if (c == '\r' || c == '\n' || c == '\0') {
      return fail("Invalid character in quoted string");
    }
    if (c == '\\') {
      const char e = peek();
      if (e != '\\' && e != '"') {
        return fail("Invalid escape in quoted string");
      }
      ++pos_;
      out.push_back(e);
      continue;
    }
    out.push_back(c);
  }
  return fail("Unterminated quoted string");
}

bool Parser::literal(std::string_view& out, bool allow_binary, bool* binary) {
  const bool is_binary = eat('~');
  if (is_binary && !allow_binary) {
    return fail("literal8 not allowed here");
  }
  if (binary != nullptr) {
    *binary = is_binary;
  }
  uint64_t n;
  if (!expect('{', "Expected a literal") || !number64(n)) {
    return false;
  }
  eat('+');
  if (!expect('}', "Bad literal") || !expect('\r', "Expected CRLF after literal") ||
      !expect('\n', "Expected CRLF after literal")) {
    return false;
  }
  if (n > s_.size() - pos_) {
    return fail("Literal is shorter than announced");
  }
  out = s_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  if (!is_binary && out.find('\0') != std::string_view::npos) {
    return fail("NUL in literal");
  }
  return true;
}

bool Parser::string(std::string& out) {
  if (peek() == '"') {
    return quoted(out);
  }
  std::string_view lit;
  if (!literal(lit, false, nullptr)) {
    return false;
  }
  out.assign(lit);
  return true;
}

bool Parser::astring(std::string& out) {
  if (peek() == '"' || peek() == '{') {
    return string(out);
  }
  const std::string_view a = take_while(is_astring_char);
  if (a.empty()) {
    return fail("Expected a string");
  }
  out.assign(a);
  return true;
}

bool Parser::nstring(std::optional<std::string>& out) {
  if (word("NIL")) {
    out.reset();
    return true;
  }
  out.emplace();
  return string(*out);
}

bool Parser::convert_name(std::string& name) {
  if (name.size() > kMailboxNameBytesMax) {
    return limit("Mailbox name too long");
  }
  if (options_.utf8) {
    return is_valid_utf8(name) || fail("Mailbox name is not UTF-8");
  }
  std::optional<std::string> decoded = mutf7_decode(name);
  if (!decoded) {
    return fail("Mailbox name is not modified UTF-7");
  }
  name = std::move(*decoded);
  return true;
}

bool Parser::mailbox(std::string& out) {
  if (!astring(out) || !convert_name(out)) {
    return false;
  }
  out = normalize_inbox(out, options_.delimiter);
  return true;
}

bool Parser::list_mailbox(std::string& out) {
  if (peek() == '"' || peek() == '{') {
    if (!string(out)) {
      return false;
    }
  } else {
    const std::string_view a = take_while(is_list_char);
    if (a.empty()) {
      return fail("Expected a mailbox pattern");
    }
    out.assign(a);
  }
  return convert_name(out);
}

bool Parser::flag(FlagList& flags) {
  const size_t start = pos_;
  eat('\\');
  atom();
  const std::string_view token = s_.substr(start, pos_ - start);
  if (flags.keywords.size() >= kFlagsPerListMax) {
    return limit("Too many flags");
  }
  return add_flag(flags, token) || fail("Invalid flag");
}

bool Parser::flag_list(FlagList& flags) {
  if (!expect('(', "Expected a flag list")) {
    return false;
  }
  if (eat(')')) {
    return true;
  }
  do {
    if (!flag(flags)) {
      return false;
    }
  } while (eat(' '));
  return expect(')', "Expected ')' after flags");
}

bool Parser::search_date(int32_t& day) {
  const bool q = eat('"');
  const size_t start = pos_;
  while (!at_end() &&
         (is_digit(peek()) || peek() == '-' || std::isalpha(static_cast<unsigned char>(peek())))) {
    ++pos_;
  }
  std::optional<int32_t> d = parse_date(s_.substr(start, pos_ - start));
  if (!d || (q && !eat('"'))) {
    return fail("Invalid date");
  }
  day = *d;
  return true;
}

bool Parser::sequence_set(SequenceSet& set) {
  const size_t start = pos_;
  while (!at_end() &&
         (is_digit(peek()) || peek() == ':' || peek() == ',' || peek() == '*' || peek() == '$')) {
    ++pos_;
  }
  std::optional<SequenceSet> parsed = parse_sequence_set(s_.substr(start, pos_ - start));
  if (!parsed) {
    return fail("Invalid sequence set");
  }
  set = std::move(*parsed);
  return true;
}

// ---------------------------------------------------------------------------------------

bool Parser::parse(ImapCommand& cmd, std::string_view name) {
  switch (cmd.kind) {
    case CommandKind::kCapability:
    case CommandKind::kNoop:
    case CommandKind::kLogout:
    case CommandKind::kStartTls:
    case CommandKind::kNamespace:
    case CommandKind::kCheck:
    case CommandKind::kClose:
    case CommandKind::kUnselect:
    case CommandKind::kIdle:
      break;
    case CommandKind::kExpunge:
      if (cmd.uid && (!sp() || !sequence_set(cmd.sequence))) {
        return false;
      }
      break;
    case CommandKind::kAuthenticate:
      if (!authenticate(cmd)) {
        return false;
      }
      break;
    case CommandKind::kLogin:
      if (!sp() || !astring(cmd.login.user) || !sp() || !astring(cmd.login.password)) {
        return false;
      }
      break;
    case CommandKind::kId:
      if (!id(cmd)) {
        return false;
      }
      break;
    case CommandKind::kEnable:
      if (!enable(cmd)) {
        return false;
      }
      break;
    case CommandKind::kSelect:
    case CommandKind::kExamine:
      if (!select(cmd)) {
        return false;
      }
      break;
    case CommandKind::kCreate:
      if (!create(cmd)) {
        return false;
      }
      break;
    case CommandKind::kDelete:
    case CommandKind::kSubscribe:
    case CommandKind::kUnsubscribe:
      if (!sp() || !mailbox(cmd.mailbox)) {
        return false;
      }
      break;
    case CommandKind::kRename:
      if (!sp() || !mailbox(cmd.mailbox) || !sp() || !mailbox(cmd.new_mailbox)) {
        return false;
      }
      break;
    case CommandKind::kList:
      if (!list(cmd)) {
        return false;
      }
      break;
    case CommandKind::kLsub:
      cmd.list.patterns.emplace_back();
      if (!sp() || !astring(cmd.list.reference) || !convert_name(cmd.list.reference) || !sp() ||
          !list_mailbox(cmd.list.patterns.back())) {
        return false;
      }
      break;
    case CommandKind::kStatus:
      if (!sp() || !mailbox(cmd.mailbox) || !sp() || !status_items(cmd.status_items)) {
        return false;
      }
      break;
    case CommandKind::kAppend:
      if (!append(cmd)) {
        return false;
      }
      break;
    case CommandKind::kSearch:
      if (!search(cmd)) {
        return false;
      }
      break;
    case CommandKind::kFetch:
      if (!fetch(cmd)) {
        return false;
      }
      break;
    case CommandKind::kStore:
      if (!store(cmd)) {
        return false;
      }
      break;
    case CommandKind::kCopy:
    case CommandKind::kMove:
      if (!sp() || !sequence_set(cmd.sequence) || !sp() || !mailbox(cmd.mailbox)) {
        return false;
      }
      break;
  }
  if (!at_end()) {
    error_.clear();
    error_.append("Unexpected text after ").append(name);
    return false;
  }
  return true;
}

bool Parser::authenticate(ImapCommand& cmd) {
  if (!sp()) {
    return false;
  }
  const std::string_view mech = atom();
  if (mech.empty()) {
    return fail("Expected a SASL mechanism");
  }
  cmd.authenticate.mechanism = to_upper(mech);
  if (eat(' ')) {
    const std::string_view ir = take_while([](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '/' || c == '=';
    });
    if (ir.empty()) {
      return fail("Invalid initial response");
    }
    cmd.authenticate.initial_response.emplace(ir);
  }
  return true;
}

bool Parser::id(ImapCommand& cmd) {
  if (!sp()) {
    return false;
  }
  if (word("NIL")) {
    return true;
  }
  if (!expect('(', "Expected '(' or NIL")) {
    return false;
  }
  if (eat(')')) {
    return true;
  }
  do {
    if (cmd.id.fields.size() >= kIdFieldsMax) {
      return limit("Too many ID fields");
    }
    auto& field = cmd.id.fields.emplace_back();
    if (!string(field.first) || !sp() || !nstring(field.second)) {
      return false;
    }
  } while (eat(' '));
  return expect(')', "Expected ')'");
}

bool Parser::enable(ImapCommand& cmd) {
  do {
    if (!sp()) {
      return false;
    }
    const std::string_view cap = atom();
    if (cap.empty()) {
      return fail("Expected a capability");
    }
    if (cmd.enable.size() >= kEnableCapsMax) {
      return limit("Too many capabilities");
    }
    cmd.enable.push_back(to_upper(cap));
  } while (!at_end());
  return true;
}

bool Parser::select(ImapCommand& cmd) {
  if (!sp() || !mailbox(cmd.mailbox)) {
    return false;
  }
  if (!eat(' ')) {
    return true;
  }
  if (!expect('(', "Expected select parameters")) {
    return false;
  }
  if (eat(')')) {
    return true;
  }
  do {
    if (!word("CONDSTORE")) {
      return fail("Unsupported select parameter");
    }
    cmd.condstore = true;
  } while (eat(' '));
  return expect(')', "Expected ')'");
}

bool Parser::create(ImapCommand& cmd) {
  if (!sp() || !mailbox(cmd.mailbox)) {
    return false;
  }
  if (!eat(' ')) {
    return true;
  }
  if (!expect('(', "Expected create parameters") || !word("USE") || !sp()) {
    return fail("Unsupported create parameter");
  }
  if (!expect('(', "Expected '('")) {
    return false;
  }
  do {
    if (!expect('\\', "Expected a special-use attribute")) {
      return false;
    }
    const std::string_view a = atom();
    if (a.empty() || cmd.special_use.size() >= 16) {
      return fail("Invalid special-use attribute");
    }
    cmd.special_use.push_back("\\" + std::string(a));
  } while (eat(' '));
  return expect(')', "Expected ')'") && expect(')', "Expected ')'");
}

bool Parser::list_select_options(ListArgs& args) {
  args.extended = true;
  if (eat(')')) {
    return true;
  }
  do {
    if (word("SUBSCRIBED")) {
      args.selection |= kListSubscribed;
    } else if (word("REMOTE")) {
      args.selection |= kListRemote;
    } else if (word("RECURSIVEMATCH")) {
      args.selection |= kListRecursiveMatch;
    } else if (word("SPECIAL-USE")) {
      args.selection |= kListSpecialUse;
    } else {
      return fail("Unknown LIST selection option");
    }
  } while (eat(' '));
  if (!expect(')', "Expected ')'")) {
    return false;
  }
  // RFC 5258 §3: RECURSIVEMATCH needs another option that it modifies.
  if ((args.selection & kListRecursiveMatch) != 0 &&
      (args.selection & (kListSubscribed | kListSpecialUse)) == 0) {
    return fail("RECURSIVEMATCH needs another selection option");
  }
  return true;
}

bool Parser::list_return_options(ListArgs& args) {
  args.extended = true;
  if (!word("RETURN") || !sp() || !expect('(', "Expected '('")) {
    return fail("Expected RETURN options");
  }
  if (eat(')')) {
    return true;
  }
  do {
    if (word("SUBSCRIBED")) {
      args.returns |= kListReturnSubscribed;
    } else if (word("CHILDREN")) {
      args.returns |= kListReturnChildren;
    } else if (word("SPECIAL-USE")) {
      args.returns |= kListReturnSpecialUse;
    } else if (word("STATUS")) {
      args.returns |= kListReturnStatus;
      if (!sp() || !status_items(args.status_items)) {
        return false;
      }
    } else {
      return fail("Unknown LIST return option");
    }
  } while (eat(' '));
  return expect(')', "Expected ')'");
}

bool Parser::list(ImapCommand& cmd) {
  ListArgs& args = cmd.list;
  if (!sp()) {
    return false;
  }
  if (eat('(')) {
    if (!list_select_options(args) || !sp()) {
      return false;
    }
  }
  if (!astring(args.reference) || !convert_name(args.reference) || !sp()) {
    return false;
  }
  if (eat('(')) {
    args.extended = true;
    do {
      if (args.patterns.size() >= kListPatternsMax) {
        return limit("Too many patterns");
      }
      if (!list_mailbox(args.patterns.emplace_back())) {
        return false;
      }
    } while (eat(' '));
    if (!expect(')', "Expected ')'")) {
      return false;
    }
  } else if (!list_mailbox(args.patterns.emplace_back())) {
    return false;
  }
  if (eat(' ')) {
    return list_return_options(args);
  }
  return true;
}

bool Parser::status_items(uint32_t& items) {
  static constexpr std::pair<std::string_view, StatusItem> kItems[] = {
      {"MESSAGES", kStatusMessages},       {"UIDNEXT", kStatusUidNext},
      {"UIDVALIDITY", kStatusUidValidity}, {"UNSEEN", kStatusUnseen},
      {"DELETED", kStatusDeleted},         {"SIZE", kStatusSize},
      {"RECENT", kStatusRecent},           {"HIGHESTMODSEQ", kStatusHighestModSeq},
  };
  if (!expect('(', "Expected status items")) {
    return false;
  }
  do {
    const std::string_view name = atom();
    bool known = false;
    for (const auto& [item_name, bit] : kItems) {
      if (iequal(name, item_name)) {
        items |= bit;
        known = true;
      }
    }
    if (!known) {
      return fail("Unknown status item");
    }
  } while (eat(' '));
  return expect(')', "Expected ')'");
}

bool Parser::append(ImapCommand& cmd) {
  if (!sp() || !mailbox(cmd.mailbox) || !sp()) {
    return false;
  }
  while (true) {
    if (cmd.append.size() >= kAppendMessagesMax) {
      return limit("Too many messages");
    }
    AppendMessage& m = cmd.append.emplace_back();
    if (peek() == '(') {
      if (!flag_list(m.flags) || !sp()) {
        return false;
      }
    }
    if (peek() == '"') {
      std::string text;
      if (!quoted(text)) {
        return false;
      }
      m.date = parse_date_time(text);
      if (!m.date || !sp()) {
        return fail("Invalid date-time");
      }
    }
    if (!literal(m.data, true, &m.binary)) {
      return false;
    }
    if (at_end()) {
      return true;
    }
    if (!sp()) {
      return false;
    }
  }
}

// --- SEARCH ---------------------------------------------------------------------------

bool Parser::search(ImapCommand& cmd) {
  SearchArgs& args = cmd.search;
  if (!sp()) {
    return false;
  }
  if (word("RETURN")) {
    args.esearch = true;
    if (!sp() || !expect('(', "Expected '('")) {
      return false;
    }
    if (!eat(')')) {
      do {
        if (word("MIN")) {
          args.returns |= kSearchReturnMin;
        } else if (word("MAX")) {
          args.returns |= kSearchReturnMax;
        } else if (word("ALL")) {
          args.returns |= kSearchReturnAll;
        } else if (word("COUNT")) {
          args.returns |= kSearchReturnCount;
        } else if (word("SAVE")) {
          args.returns |= kSearchReturnSave;
        } else {
          return fail("Unknown search return option");
        }
      } while (eat(' '));
      if (!expect(')', "Expected ')'")) {
        return false;
      }
    }
    if (args.returns == 0) {
      args.returns = kSearchReturnAll;  // RFC 4731 §3.1: "RETURN ()" is "RETURN (ALL)"
    }
    if (!sp()) {
      return false;
    }
  }
  if (word("CHARSET")) {
    std::string charset;
    if (!sp() || !astring(charset) || !sp()) {
      return false;
    }
    args.charset = to_upper(charset);
    if (args.charset != "UTF-8" && args.charset != "US-ASCII") {
      bad_charset_ = true;
      return fail("Unsupported charset");
    }
  }
  args.key.kind = SearchKeyKind::kAnd;
  do {
    if (!search_key(args.key.children.emplace_back(), 1)) {
      return false;
    }
    args.key.expensive = args.key.expensive || args.key.children.back().expensive;
  } while (eat(' '));
  return true;
}

bool Parser::search_key(SearchKey& key, size_t depth) {
  if (depth > kSearchDepthMax) {
    return limit("Search nested too deeply");
  }
  if (++search_keys_ > kSearchKeysMax) {
    return limit("Too many search keys");
  }
  const char c = peek();
  if (c == '(') {
    ++pos_;
    key.kind = SearchKeyKind::kAnd;
    do {
      SearchKey& child = key.children.emplace_back();
      if (!search_key(child, depth + 1)) {
        return false;
      }
      key.expensive = key.expensive || child.expensive;
    } while (eat(' '));
    return expect(')', "Expected ')' in search");
  }
  if (is_digit(c) || c == '*' || c == '$') {
    key.kind = SearchKeyKind::kSequence;
    return sequence_set(key.set);
  }
  const std::string_view name = atom();
  if (name.empty()) {
    return fail("Expected a search key");
  }
  if (!search_key_word(key, name, depth)) {
    return false;
  }
  for (const SearchKey& child : key.children) {
    key.expensive = key.expensive || child.expensive;
  }
  return true;
}

bool Parser::search_key_word(SearchKey& key, std::string_view name, size_t depth) {
  struct FlagKey {
    std::string_view name;
    SearchKeyKind kind;
    uint32_t flag;
  };
  static constexpr FlagKey kFlagKeys[] = {
      {"ANSWERED", SearchKeyKind::kFlagSet, kFlagAnswered},
      {"DELETED", SearchKeyKind::kFlagSet, kFlagDeleted},
      {"DRAFT", SearchKeyKind::kFlagSet, kFlagDraft},
      {"FLAGGED", SearchKeyKind::kFlagSet, kFlagFlagged},
      {"SEEN", SearchKeyKind::kFlagSet, kFlagSeen},
      {"RECENT", SearchKeyKind::kFlagSet, kFlagRecent},
      {"UNANSWERED", SearchKeyKind::kFlagClear, kFlagAnswered},
      {"UNDELETED", SearchKeyKind::kFlagClear, kFlagDeleted},
      {"UNDRAFT", SearchKeyKind::kFlagClear, kFlagDraft},
      {"UNFLAGGED", SearchKeyKind::kFlagClear, kFlagFlagged},
      {"UNSEEN", SearchKeyKind::kFlagClear, kFlagSeen},
      {"OLD", SearchKeyKind::kFlagClear, kFlagRecent},
  };
  for (const FlagKey& f : kFlagKeys) {
    if (iequal(name, f.name)) {
      key.kind = f.kind;
      key.flag = f.flag;
      return true;
    }
  }
  struct TextKey {
    std::string_view name;
    SearchKeyKind kind;
    std::string_view field;
  };
  static constexpr TextKey kTextKeys[] = {
      {"BCC", SearchKeyKind::kHeader, "Bcc"},
      {"CC", SearchKeyKind::kHeader, "Cc"},
      {"FROM", SearchKeyKind::kHeader, "From"},
      {"TO", SearchKeyKind::kHeader, "To"},
      {"SUBJECT", SearchKeyKind::kHeader, "Subject"},
      {"BODY", SearchKeyKind::kBody, ""},
      {"TEXT", SearchKeyKind::kText, ""},
  };
  for (const TextKey& t : kTextKeys) {
    if (iequal(name, t.name)) {
      key.kind = t.kind;
      key.field = t.field;
      key.expensive = true;
      std::string needle;
      if (!sp() || !astring(needle)) {
        return false;
      }
      key.text = fold_case(needle);
      return true;
    }
  }
  struct DateKey {
    std::string_view name;
    SearchKeyKind kind;
  };
  static constexpr DateKey kDateKeys[] = {
      {"BEFORE", SearchKeyKind::kBefore}, {"ON", SearchKeyKind::kOn},
      {"SINCE", SearchKeyKind::kSince},   {"SENTBEFORE", SearchKeyKind::kSentBefore},
      {"SENTON", SearchKeyKind::kSentOn}, {"SENTSINCE", SearchKeyKind::kSentSince},
  };
  for (const DateKey& d : kDateKeys) {
    if (iequal(name, d.name)) {
      key.kind = d.kind;
      key.expensive = d.kind == SearchKeyKind::kSentBefore || d.kind == SearchKeyKind::kSentOn ||
                      d.kind == SearchKeyKind::kSentSince;
      return sp() && search_date(key.day);
    }
  }
  if (iequal(name, "ALL")) {
    key.kind = SearchKeyKind::kAll;
    return true;
  }
  if (iequal(name, "NEW")) {  // RECENT UNSEEN
    key.kind = SearchKeyKind::kAnd;
    key.children.resize(2);
    key.children[0].kind = SearchKeyKind::kFlagSet;
    key.children[0].flag = kFlagRecent;
    key.children[1].kind = SearchKeyKind::kFlagClear;
    key.children[1].flag = kFlagSeen;
    return true;
  }
  if (iequal(name, "KEYWORD") || iequal(name, "UNKEYWORD")) {
    key.kind = upper(name[0]) == 'K' ? SearchKeyKind::kKeyword : SearchKeyKind::kUnkeyword;
    if (!sp()) {
      return false;
    }
    const std::string_view kw = atom();
    if (!is_valid_keyword(kw)) {
      return fail("Invalid keyword");
    }
    key.text.assign(kw);
    return true;
  }
  if (iequal(name, "HEADER")) {
    key.kind = SearchKeyKind::kHeader;
    key.expensive = true;
    std::string needle;
    if (!sp() || !astring(key.field) || !sp() || !astring(needle)) {
      return false;
    }
    key.text = fold_case(needle);
    return true;
  }
  if (iequal(name, "LARGER") || iequal(name, "SMALLER")) {
    key.kind = upper(name[0]) == 'L' ? SearchKeyKind::kLarger : SearchKeyKind::kSmaller;
    return sp() && number64(key.number);
  }
  if (iequal(name, "MODSEQ")) {
    key.kind = SearchKeyKind::kModSeq;
    if (!sp()) {
      return false;
    }
    if (peek() == '"') {  // entry-name entry-type-req: accepted, not used
      std::string entry;
      if (!quoted(entry) || !sp() || atom().empty() || !sp()) {
        return fail("Invalid MODSEQ entry");
      }
    }
    return number64(key.number);
  }
  if (iequal(name, "UID")) {
    key.kind = SearchKeyKind::kUid;
    return sp() && sequence_set(key.set);
  }
  if (iequal(name, "NOT")) {
    key.kind = SearchKeyKind::kNot;
    return sp() && search_key(key.children.emplace_back(), depth + 1);
  }
  if (iequal(name, "OR")) {
    key.kind = SearchKeyKind::kOr;
    key.children.reserve(2);
    return sp() && search_key(key.children.emplace_back(), depth + 1) && sp() &&
           search_key(key.children.emplace_back(), depth + 1);
  }
  return fail("Unknown search key");
}

// --- FETCH ----------------------------------------------------------------------------

void add_item(FetchArgs& args, FetchAttr attr) {
  if (!args.has(attr)) {
    args.items.push_back(FetchItem{attr, false, {}, std::nullopt});
    args.attrs |= 1u << static_cast<unsigned>(attr);
  }
}

bool Parser::fetch(ImapCommand& cmd) {
  FetchArgs& args = cmd.fetch;
  if (!sp() || !sequence_set(cmd.sequence) || !sp()) {
    return false;
  }
  if (word("ALL")) {
    for (FetchAttr a : {FetchAttr::kFlags, FetchAttr::kInternalDate, FetchAttr::kRfc822Size,
                        FetchAttr::kEnvelope}) {
      add_item(args, a);
    }
  } else if (word("FAST")) {
    for (FetchAttr a : {FetchAttr::kFlags, FetchAttr::kInternalDate, FetchAttr::kRfc822Size}) {
      add_item(args, a);
    }
  } else if (word("FULL")) {
    for (FetchAttr a : {FetchAttr::kFlags, FetchAttr::kInternalDate, FetchAttr::kRfc822Size,
                        FetchAttr::kEnvelope, FetchAttr::kBody}) {
      add_item(args, a);
    }
  } else if (eat('(')) {
    do {
      if (!fetch_item(args)) {
        return false;
      }
    } while (eat(' '));
    if (!expect(')', "Expected ')' after fetch items")) {
      return false;
    }
  } else if (!fetch_item(args)) {
    return false;
  }
  if (eat(' ') && !fetch_modifiers(args)) {
    return false;
  }
  if (cmd.uid) {
    add_item(args, FetchAttr::kUid);
  }
  if (args.changed_since) {
    add_item(args, FetchAttr::kModSeq);
  }
  return true;
}

bool Parser::fetch_modifiers(FetchArgs& args) {
  if (!expect('(', "Expected fetch modifiers")) {
    return false;
  }
  do {
    if (word("CHANGEDSINCE")) {
      uint64_t v;
      if (!sp() || !number64(v)) {
        return false;
      }
      args.changed_since = v;
    } else if (word("VANISHED")) {
      args.vanished = true;
    } else {
      return fail("Unknown fetch modifier");
    }
  } while (eat(' '));
  if (args.vanished && !args.changed_since) {
    return fail("VANISHED needs CHANGEDSINCE");
  }
  return expect(')', "Expected ')'");
}

bool Parser::fetch_item(FetchArgs& args) {
  if (args.items.size() >= kFetchItemsMax) {
    return limit("Too many fetch items");
  }
  const std::string_view name =
      take_while([](char c) { return is_atom_char(c) && c != '[' && c != '<'; });
  struct Simple {
    std::string_view name;
    FetchAttr attr;
  };
  static constexpr Simple kSimple[] = {
      {"ENVELOPE", FetchAttr::kEnvelope},
      {"FLAGS", FetchAttr::kFlags},
      {"INTERNALDATE", FetchAttr::kInternalDate},
      {"RFC822", FetchAttr::kRfc822},
      {"RFC822.HEADER", FetchAttr::kRfc822Header},
      {"RFC822.TEXT", FetchAttr::kRfc822Text},
      {"RFC822.SIZE", FetchAttr::kRfc822Size},
      {"BODYSTRUCTURE", FetchAttr::kBodyStructure},
      {"UID", FetchAttr::kUid},
      {"MODSEQ", FetchAttr::kModSeq},
  };
  for (const Simple& s : kSimple) {
    if (iequal(name, s.name)) {
      add_item(args, s.attr);
      return true;
    }
  }
  FetchItem item;
  if (iequal(name, "BODY") || iequal(name, "BODY.PEEK")) {
    if (peek() != '[') {
      if (name.size() != 4) {
        return fail("BODY.PEEK needs a section");
      }
      add_item(args, FetchAttr::kBody);
      return true;
    }
    item.attr = FetchAttr::kBodySection;
    item.peek = name.size() != 4;
    if (!fetch_section(item.section) || !fetch_partial(item)) {
      return false;
    }
  } else if (iequal(name, "BINARY") || iequal(name, "BINARY.PEEK")) {
    item.attr = FetchAttr::kBinary;
    item.peek = name.size() != 6;
    if (!fetch_binary_section(item.section) || !fetch_partial(item)) {
      return false;
    }
  } else if (iequal(name, "BINARY.SIZE")) {
    item.attr = FetchAttr::kBinarySize;
    if (!fetch_binary_section(item.section)) {
      return false;
    }
  } else {
    return fail("Unknown fetch item");
  }
  args.attrs |= 1u << static_cast<unsigned>(item.attr);
  args.items.push_back(std::move(item));
  return true;
}

bool Parser::fetch_section(Section& section) {
  if (!expect('[', "Expected '['")) {
    return false;
  }
  if (eat(']')) {
    return true;
  }
  while (is_digit(peek())) {
    uint32_t n;
    if (section.part.size() >= kSectionPartDepthMax) {
      return limit("Section part too deep");
    }
    if (!nz_number32(n)) {
      return false;
    }
    section.part.push_back(n);
    if (!eat('.')) {
      return expect(']', "Expected ']'");
    }
  }
  const std::string_view text = take_while(
      [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '.'; });
  if (iequal(text, "HEADER")) {
    section.text = SectionText::kHeader;
  } else if (iequal(text, "TEXT")) {
    section.text = SectionText::kText;
  } else if (iequal(text, "MIME") && !section.part.empty()) {
    section.text = SectionText::kMime;
  } else if (iequal(text, "HEADER.FIELDS") || iequal(text, "HEADER.FIELDS.NOT")) {
    section.text = text.size() == 13 ? SectionText::kHeaderFields : SectionText::kHeaderFieldsNot;
    if (!sp() || !expect('(', "Expected header list")) {
      return false;
    }
    do {
      if (section.fields.size() >= kHeaderFieldsMax) {
        return limit("Too many header fields");
      }
      std::string field;
      if (!astring(field)) {
        return false;
      }
      section.fields.push_back(to_upper(field));
    } while (eat(' '));
    if (!expect(')', "Expected ')'")) {
      return false;
    }
  } else {
    return fail("Invalid section");
  }
  return expect(']', "Expected ']'");
}

bool Parser::fetch_binary_section(Section& section) {
  if (!expect('[', "Expected '['")) {
    return false;
  }
  if (eat(']')) {
    return true;
  }
  do {
    uint32_t n;
    if (section.part.size() >= kSectionPartDepthMax) {
      return limit("Section part too deep");
    }
    if (!nz_number32(n)) {
      return false;
    }
    section.part.push_back(n);
  } while (eat('.'));
  return expect(']', "Expected ']'");
}

bool Parser::fetch_partial(FetchItem& item) {
  if (!eat('<')) {
    return true;
  }
  uint32_t offset, length;
  if (!number32(offset) || !expect('.', "Expected '.' in partial") || !nz_number32(length) ||
      !expect('>', "Expected '>'")) {
    return false;
  }
  item.partial.emplace(offset, length);
  return true;
}

// --- STORE ----------------------------------------------------------------------------

bool Parser::store(ImapCommand& cmd) {
  StoreArgs& args = cmd.store;
  if (!sp() || !sequence_set(cmd.sequence) || !sp()) {
    return false;
  }
  if (eat('(')) {
    uint64_t v;
    if (!word("UNCHANGEDSINCE") || !sp() || !number64(v) || !expect(')', "Expected ')'") || !sp()) {
      return fail("Invalid store modifier");
    }
    args.unchanged_since = v;
  }
  if (eat('+')) {
    args.mode = StoreMode::kAdd;
  } else if (eat('-')) {
    args.mode = StoreMode::kRemove;
  }
  const std::string_view item = atom();
  if (iequal(item, "FLAGS.SILENT")) {
    args.silent = true;
  } else if (!iequal(item, "FLAGS")) {
    return fail("Expected FLAGS");
  }
  if (!sp()) {
    return false;
  }
  if (peek() == '(') {
    return flag_list(args.flags);
  }
  do {
    if (!flag(args.flags)) {
      return false;
    }
  } while (eat(' '));
  return true;
}

const CommandInfo* find_command(std::string_view name) {
  for (const CommandInfo& info : kCommands) {
    if (iequal(info.name, name)) {
      return &info;
    }
  }
  return nullptr;
}

ParseResult error_result(std::string_view tag, ParseErrorKind kind, std::string text) {
  ParseResult r;
  r.error.kind = kind;
  r.error.tag.assign(tag);
  r.error.text = std::move(text);
  return r;
}

}  // namespace

std::span<const CommandInfo> commands() {
  return kCommands;
}

const CommandInfo& command_info(CommandKind kind) {
  for (const CommandInfo& info : kCommands) {
    if (info.kind == kind) {
      return info;
    }
  }
  return kCommands[0];
}

bool FetchArgs::sets_seen() const {
  for (const FetchItem& item : items) {
    if (((item.attr == FetchAttr::kBodySection || item.attr == FetchAttr::kBinary) && !item.peek) ||
        item.attr == FetchAttr::kRfc822 || item.attr == FetchAttr::kRfc822Text) {
      return true;
    }
  }
  return false;
}

namespace {

std::string error_line(std::string_view tag, std::string_view status, std::string_view code,
                       std::string_view text) {
  std::string out;
  out.reserve(tag.size() + code.size() + text.size() + 16);
  out.append(tag.empty() ? "*" : tag).append(" ").append(status).append(" ");
  if (!code.empty()) {
    out.append("[").append(code).append("] ");
  }
  // The text is ours, but keep the line a line whatever it holds.
  for (char c : text) {
    out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  }
  out.append("\r\n");
  return out;
}

}  // namespace

std::string error_response(const ParseError& error) {
  return error_line(error.tag, "BAD", error.code, error.text);
}

std::string error_response(const ReaderError& error) {
  return error_line(error.tag, error.status, error.code, error.text);
}

ParseResult parse_imap_command(std::string_view text, const ParseOptions& options) {
  const std::string_view tag = leading_tag(text);
  if (tag.empty()) {
    return error_result({}, ParseErrorKind::kSyntax, "Missing or invalid tag");
  }
  if (tag.size() > kTagBytesMax) {
    return error_result({}, ParseErrorKind::kSyntax, "Tag too long");
  }
  if (tag.size() == text.size()) {
    return error_result(tag, ParseErrorKind::kSyntax, "Missing command");
  }
  std::string_view rest = text.substr(tag.size() + 1);
  size_t name_len = 0;
  while (name_len < rest.size() && is_atom_char(rest[name_len])) {
    ++name_len;
  }
  std::string_view name = rest.substr(0, name_len);
  bool uid = false;
  if (iequal(name, "UID")) {
    uid = true;
    if (name_len >= rest.size() || rest[name_len] != ' ') {
      return error_result(tag, ParseErrorKind::kSyntax, "Expected a command after UID");
    }
    rest.remove_prefix(name_len + 1);
    name_len = 0;
    while (name_len < rest.size() && is_atom_char(rest[name_len])) {
      ++name_len;
    }
    name = rest.substr(0, name_len);
  }
  const CommandInfo* info = find_command(name);
  if (info == nullptr || (uid && (info->flags & kUidForm) == 0)) {
    return error_result(tag, ParseErrorKind::kUnknownCommand, "Unknown command");
  }
  ImapCommand cmd;
  cmd.tag.assign(tag);
  cmd.kind = info->kind;
  cmd.uid = uid;
  Parser parser(rest, options);
  parser.skip(name_len);
  if (!parser.parse(cmd, info->name)) {
    ParseResult r = error_result(tag, ParseErrorKind::kSyntax, std::string(parser.error()));
    if (parser.bad_charset()) {
      r.error.kind = ParseErrorKind::kBadCharset;
      r.error.code = "BADCHARSET";
    } else if (parser.too_many()) {
      r.error.kind = ParseErrorKind::kTooMany;
      r.error.code = "LIMIT";
    }
    if (r.error.text.empty()) {
      r.error.text = "Syntax error";
    }
    return r;
  }
  ParseResult r;
  r.command.emplace(std::move(cmd));
  return r;
}

ParseResult parse_imap_command(const FramedCommand& framed, const ParseOptions& options) {
  return parse_imap_command(std::string_view(framed.text), options);
}

}  // namespace rm::imap
