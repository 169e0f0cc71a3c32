#include "tools/ringmaild/imap/imap_connection.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "core/base/base64.h"
#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "proto/imap/command.h"
#include "proto/imap/command_reader.h"
#include "proto/imap/date_time.h"
#include "proto/imap/mailbox_name.h"
#include "proto/imap/response.h"
#include "proto/imap/sequence_set.h"
#include "tls/tls_filter.h"
#include "tools/ringmaild/access/access_service.h"
#include "tools/ringmaild/imap/fetch_response.h"
#include "tools/ringmaild/imap/list_pattern.h"
#include "tools/ringmaild/imap/search_subject.h"

namespace rm {
namespace {

using imap::CommandKind;

constexpr size_t kOutputHighBytes = 1 << 20;  // stream FETCH output above this...
constexpr size_t kOutputLowBytes = 256 << 10;  // ...and go on once it is below this
constexpr size_t kFetchBatch = 256;            // stored messages read per lane job...
constexpr uint64_t kFetchBatchBytes = 1 << 20;  // ...and their bytes (beyond the first one)
constexpr size_t kFetchItemBytes = 64;          // "* n FETCH (BODY[] {n}\r\n...)\r\n" and so on
constexpr size_t kSaslBytesMax = 8192;
constexpr size_t kPipelinedBytesMax = 1 << 20;  // held beyond one command while busy
constexpr uint64_t kMultiappendBytesMin = 64 << 20;
constexpr char kDelimiter = '/';

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

uint8_t store_flags(uint32_t system) {
  uint8_t out = 0;
  if (system & imap::kFlagSeen) out |= kFlagSeen;
  if (system & imap::kFlagAnswered) out |= kFlagAnswered;
  if (system & imap::kFlagFlagged) out |= kFlagFlagged;
  if (system & imap::kFlagDeleted) out |= kFlagDeleted;
  if (system & imap::kFlagDraft) out |= kFlagDraft;
  return out;
}

uint8_t special_use_bits(const std::vector<std::string>& names) {
  uint8_t out = 0;
  for (const std::string& n : names) {
    const std::string l = lower(n);
    if (l == "\\sent") out |= kUseSent;
    if (l == "\\drafts") out |= kUseDrafts;
    if (l == "\\trash") out |= kUseTrash;
    if (l == "\\junk") out |= kUseJunk;
    if (l == "\\archive") out |= kUseArchive;
  }
  return out;
}

void append_special_use(std::string& out, uint8_t use) {
  constexpr struct {
    uint8_t bit;
    const char* name;
  } kNames[] = {{kUseSent, "\\Sent"},
                {kUseDrafts, "\\Drafts"},
                {kUseTrash, "\\Trash"},
                {kUseJunk, "\\Junk"},
                {kUseArchive, "\\Archive"}};
  for (const auto& n : kNames) {
    if (use & n.bit) {
      if (out.back() != '(') out += ' ';
      out += n.name;
    }
  }
}

std::string status_text(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return "NO [NONEXISTENT] No such mailbox";
    case StatusCode::kAlreadyExists:
      return "NO [ALREADYEXISTS] Mailbox already exists";
    case StatusCode::kInvalidArgument:
      return "NO [CANNOT] Invalid mailbox name";
    case StatusCode::kResourceExhausted:
      return "NO [LIMIT] Too many";
    default:
      return "NO [SERVERBUG] Temporary failure, try again";
  }
}

// One FETCH in progress: what to send for which messages, streamed in batches.
struct FetchJob {
  std::string tag;
  imap::FetchArgs args;
  bool uid = false;
  std::vector<std::pair<uint32_t, uint32_t>> targets;  // (sequence number, UID)
  size_t next = 0;                   // the next target to read (or format)
  bool reading = false;              // a batch is being read on the lane
  std::optional<std::string> ready;  // a formatted batch waiting for the output to drain
  uint64_t batch_bytes = 0;          // the stored size of the batch being read
  bool failed_cte = false;
};

class ImapConnection final : public ConnectionHandler, public MailboxWatcher {
 public:
  ImapConnection(AccessService& service, bool implicit_tls, Connection& conn)
      : service_(service), options_(service.options().access), conn_(&conn),
        shard_(&conn.shard()), implicit_tls_(implicit_tls), reader_(reader_limits()) {}

  ~ImapConnection() override {
    unselect();
    *alive_ = false;
  }

  void on_open(Connection& conn) override {
    if (implicit_tls_) {
      conn.start_filter(std::make_unique<TlsFilter>(service_.tls()));
      tls_ = true;
    }
    conn.write("* OK [CAPABILITY " + capabilities() + "] " +
               service_.options().server.hostname + " ringmail IMAP ready\r\n");
    conn.set_deadline_in(options_.imap_login_timeout_ms);
  }

  size_t on_data(Connection& conn, std::string_view input) override {
    conn_ = &conn;
    if (state_ == State::kLogout) {
      return 0;
    }
    if (busy_) {
      // Pipelined commands (a client may send dozens of APPENDs at once) wait in the
      // reader, up to one largest command and a margin; beyond that the connection's own
      // input bound applies.
      const size_t held_max = size_t{options_.append_bytes_max} + kPipelinedBytesMax;
      if (reader_.buffered_bytes() + input.size() > held_max) return 0;
      reader_.feed(input);
      return input.size();
    }
    reader_.feed(input);
    process();
    return input.size();
  }

  void on_drained(Connection&) override {
    if (fetch_) continue_fetch();
  }

  void on_moved(Connection& conn) override {
    conn_ = &conn;
    shard_ = &conn.shard();
    after_login_moved();
  }

  void on_deadline(Connection& conn) override {
    conn.write("* BYE Autologout; idle for too long\r\n");
    conn.close_after_flush();
  }

  void on_shutdown(Connection& conn) override {
    conn.write("* BYE Server shutting down\r\n");
    conn.close_after_flush();
  }

  void on_close(Connection&) override { unselect(); }

  void mailbox_changed() override {
    if (!idle_tag_.empty() && !busy_) {
      std::string out;
      report_changes(out, true);
      write(out);
    }
  }

 private:
  enum class State { kNotAuthenticated, kAuthenticated, kSelected, kLogout };

  imap::ImapReaderLimits reader_limits() const {
    imap::ImapReaderLimits limits;
    limits.append_literal_bytes_max = options_.append_bytes_max;
    // A MULTIAPPEND is held whole until it ends: as much as one largest message, at least
    // a good batch of ordinary ones.
    limits.command_literal_bytes_max =
        std::max<uint64_t>(options_.append_bytes_max, kMultiappendBytesMin);
    return limits;
  }

  bool auth_allowed() const { return tls_ || options_.plaintext_auth_allowed; }

  std::string capabilities() const {
    std::string caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS "
                       "UNSELECT MOVE CONDSTORE LIST-EXTENDED LIST-STATUS SPECIAL-USE "
                       "CREATE-SPECIAL-USE ESEARCH SEARCHRES BINARY MULTIAPPEND CHILDREN "
                       "UTF8=ACCEPT APPENDLIMIT=" +
                       std::to_string(options_.append_bytes_max);
    if (state_ == State::kNotAuthenticated) {
      if (!tls_ && service_.tls()) caps += " STARTTLS";
      caps += auth_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED";
    }
    return caps;
  }

  // ---- output and flow ----

  void write(std::string_view bytes) {
    if (!bytes.empty()) conn_->write(bytes);
  }
  // A large answer is queued as it is, not copied.
  void write_owned(std::string&& bytes) {
    if (!bytes.empty()) conn_->write(std::move(bytes));
  }

  void tagged(const std::string& tag, std::string_view text) {
    std::string out;
    if (state_ == State::kSelected && allow_updates_after_) report_changes(out, expunge_ok_);
    out += tag;
    out += ' ';
    out += text;
    out += "\r\n";
    write(out);
  }

  // An asynchronous step finished: answer, then go on with the commands that wait.
  void done(const std::string& tag, std::string_view text) {
    tagged(tag, text);
    resume();
  }

  void resume() {
    busy_ = false;
    if (conn_->open()) {
      process();
      conn_->resume_input();
    }
  }

  void bad(const std::string& tag, std::string_view text) {
    write((tag.empty() ? std::string("*") : tag) + " BAD " + std::string(text) + "\r\n");
    if (++errors_ >= options_.errors_max) {
      write("* BYE Too many errors\r\n");
      conn_->close_after_flush();
      state_ = State::kLogout;
    }
  }

  void process() {
    while (!busy_ && state_ != State::kLogout && conn_->open()) {
      const imap::ReaderEvent event = reader_.next();
      if (event == imap::ReaderEvent::kNeedMore) break;
      if (event == imap::ReaderEvent::kContinuationNeeded) {
        write("+ Ready for literal data\r\n");
        continue;
      }
      if (event == imap::ReaderEvent::kError) {
        const imap::ReaderError& e = reader_.error();
        std::string text = std::string(e.status) + " ";
        if (!e.code.empty()) text += "[" + std::string(e.code) + "] ";
        text += std::string(e.text);
        write((e.tag.empty() ? std::string("*") : e.tag) + " " + text + "\r\n");
        if (e.must_close) {
          write("* BYE Cannot go on after that\r\n");
          conn_->close_after_flush();
          state_ = State::kLogout;
        }
        continue;
      }
      conn_->set_deadline_in(state_ == State::kNotAuthenticated ? options_.imap_login_timeout_ms
                                                                : options_.imap_idle_timeout_ms);
      handle_framed(reader_.command());
    }
    if (!busy_ && reader_.buffered_bytes() == 0 && big_command_) {
      reader_ = imap::ImapCommandReader(reader_limits());  // give back a large buffer
      big_command_ = false;
    }
  }

  void handle_framed(const imap::FramedCommand& framed) {
    big_command_ = big_command_ || framed.text.size() > 65536;
    if (!idle_tag_.empty()) {
      end_idle(framed.text);
      return;
    }
    if (!sasl_tag_.empty()) {
      sasl_response(framed.text);
      return;
    }
    imap::ParseOptions parse;
    parse.utf8 = utf8_;
    parse.delimiter = kDelimiter;
    imap::ParseResult r = imap::parse_imap_command(framed, parse);
    if (!r.command) {
      std::string text = r.error.text;
      if (!r.error.code.empty()) text = "[" + std::string(r.error.code) + "] " + text;
      if (r.error.kind == imap::ParseErrorKind::kBadCharset) {
        write(r.error.tag + " NO " + text + "\r\n");
        return;
      }
      bad(r.error.tag, text);
      return;
    }
    execute(*r.command);
  }

  // ---- dispatch ----

  void execute(imap::ImapCommand& cmd) {
    if (appends_in_flight_ > 0 && cmd.kind != CommandKind::kAppend) {
      held_ = std::move(cmd);  // runs once the APPENDs before it are answered
      busy_ = true;
      return;
    }
    const imap::CommandInfo& info = imap::command_info(cmd.kind);
    const uint32_t need = state_ == State::kNotAuthenticated ? imap::kInNotAuthenticated
                          : state_ == State::kAuthenticated  ? imap::kInAuthenticated
                                                             : imap::kInSelected;
    if ((info.flags & need) == 0) {
      const bool pre_auth_only = info.flags == imap::kInNotAuthenticated;
      bad(cmd.tag, state_ == State::kNotAuthenticated ? "Log in first"
                   : pre_auth_only                    ? "Already logged in"
                                                      : "Select a mailbox first");
      return;
    }
    // Untagged EXPUNGEs are not allowed after FETCH, STORE or SEARCH (RFC 9051 §7.5.1);
    // UID forms and other commands may report everything.
    allow_updates_after_ = true;
    expunge_ok_ = cmd.uid || (cmd.kind != CommandKind::kFetch &&
                              cmd.kind != CommandKind::kStore && cmd.kind != CommandKind::kSearch);
    switch (cmd.kind) {
      case CommandKind::kCapability:
        write("* CAPABILITY " + capabilities() + "\r\n");
        tagged(cmd.tag, "OK CAPABILITY completed");
        break;
      case CommandKind::kNoop:
      case CommandKind::kCheck:
        tagged(cmd.tag, "OK NOOP completed");
        break;
      case CommandKind::kLogout:
        write("* BYE Logging out\r\n");
        tagged(cmd.tag, "OK LOGOUT completed");
        state_ = State::kLogout;
        conn_->close_after_flush();
        break;
      case CommandKind::kStartTls: cmd_starttls(cmd); break;
      case CommandKind::kLogin: cmd_login(cmd); break;
      case CommandKind::kAuthenticate: cmd_authenticate(cmd); break;
      case CommandKind::kId:
        write("* ID (\"name\" \"ringmail\" \"version\" \"0.1\")\r\n");
        tagged(cmd.tag, "OK ID completed");
        break;
      case CommandKind::kEnable: cmd_enable(cmd); break;
      case CommandKind::kNamespace:
        write("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
        tagged(cmd.tag, "OK NAMESPACE completed");
        break;
      case CommandKind::kSelect:
      case CommandKind::kExamine: cmd_select(cmd); break;
      case CommandKind::kCreate: cmd_create(cmd); break;
      case CommandKind::kDelete: cmd_delete(cmd); break;
      case CommandKind::kRename: cmd_rename(cmd); break;
      case CommandKind::kSubscribe:
      case CommandKind::kUnsubscribe: cmd_subscribe(cmd); break;
      case CommandKind::kList:
      case CommandKind::kLsub: cmd_list(cmd); break;
      case CommandKind::kStatus: cmd_status(cmd); break;
      case CommandKind::kAppend: cmd_append(cmd); break;
      case CommandKind::kClose: cmd_close(cmd, true); break;
      case CommandKind::kUnselect: cmd_close(cmd, false); break;
      case CommandKind::kExpunge: cmd_expunge(cmd); break;
      case CommandKind::kSearch: cmd_search(cmd); break;
      case CommandKind::kFetch: cmd_fetch(cmd); break;
      case CommandKind::kStore: cmd_store(cmd); break;
      case CommandKind::kCopy:
      case CommandKind::kMove: cmd_copy(cmd); break;
      case CommandKind::kIdle: cmd_idle(cmd); break;
    }
  }

  // ---- not authenticated ----

  void cmd_starttls(const imap::ImapCommand& cmd) {
    if (tls_ || !service_.tls()) {
      bad(cmd.tag, "TLS is already on");
      return;
    }
    tagged(cmd.tag, "OK Begin TLS negotiation now");
    conn_->start_filter(std::make_unique<TlsFilter>(service_.tls()));
    tls_ = true;
    reader_ = imap::ImapCommandReader(reader_limits());  // nothing sent in the clear survives
  }

  void cmd_login(const imap::ImapCommand& cmd) {
    if (!auth_allowed()) {
      tagged(cmd.tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
      return;
    }
    start_login(cmd.tag, cmd.login.user, cmd.login.password);
  }

  void cmd_authenticate(const imap::ImapCommand& cmd) {
    if (!auth_allowed()) {
      tagged(cmd.tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
      return;
    }
    if (cmd.authenticate.mechanism != "PLAIN") {
      tagged(cmd.tag, "NO [CANNOT] Unsupported authentication mechanism");
      return;
    }
    if (cmd.authenticate.initial_response) {
      sasl_plain(cmd.tag, *cmd.authenticate.initial_response);
      return;
    }
    sasl_tag_ = cmd.tag;
    write("+ \r\n");
  }

  void sasl_response(std::string_view line) {
    const std::string tag = std::move(sasl_tag_);
    sasl_tag_.clear();
    if (line == "*") {
      tagged(tag, "BAD Authentication cancelled");
      return;
    }
    sasl_plain(tag, line);
  }

  void sasl_plain(const std::string& tag, std::string_view encoded) {
    if (encoded.size() > kSaslBytesMax) {
      bad(tag, "Authentication data too long");
      return;
    }
    std::optional<std::string> decoded =
        encoded == "=" ? std::optional<std::string>("") : base64_decode(encoded);
    if (!decoded) {
      bad(tag, "Invalid base64");
      return;
    }
    // authzid NUL authcid NUL password (RFC 4616); authzid empty or the same user.
    const size_t first = decoded->find('\0');
    const size_t second = first == std::string::npos ? first : decoded->find('\0', first + 1);
    if (second == std::string::npos) {
      tagged(tag, "NO [AUTHENTICATIONFAILED] Malformed PLAIN response");
      return;
    }
    const std::string authzid = decoded->substr(0, first);
    const std::string user = decoded->substr(first + 1, second - first - 1);
    const std::string password = decoded->substr(second + 1);
    if (!authzid.empty() && lower(authzid) != lower(user)) {
      tagged(tag, "NO [AUTHORIZATIONFAILED] No permission to act as that user");
      return;
    }
    start_login(tag, user, password);
  }

  void start_login(const std::string& tag, const std::string& user, const std::string& password) {
    busy_ = true;
    const std::string ip = client_ip();
    service_.login(*shard_, ip, user, password,
                   [this, alive = alive_, tag](LoginOutcome outcome, const std::string& account,
                                               uint32_t delay_ms) {
                     if (*alive) login_finished(tag, outcome, account, delay_ms);
                   });
  }

  std::string client_ip() const {
    const std::string& peer = conn_->peer();
    if (!peer.empty() && peer[0] == '[') return peer.substr(1, peer.find(']') - 1);
    return peer.substr(0, peer.rfind(':'));
  }

  void login_finished(const std::string& tag, LoginOutcome outcome, const std::string& account,
                      uint32_t delay_ms) {
    switch (outcome) {
      case LoginOutcome::kOk:
        break;
      case LoginOutcome::kRefused:
        write("* BYE Too many failed logins\r\n");
        tagged(tag, "NO [AUTHENTICATIONFAILED] Too many failed logins");
        state_ = State::kLogout;
        conn_->close_after_flush();
        return;
      case LoginOutcome::kTemporary:
        done(tag, "NO [UNAVAILABLE] Temporary failure, try again");
        return;
      case LoginOutcome::kFailed:
        if (delay_ms == 0) {
          done(tag, "NO [AUTHENTICATIONFAILED] Invalid credentials");
        } else {
          shard_->start_timer(monotonic_ms() + delay_ms, [this, alive = alive_, tag] {
            if (*alive) done(tag, "NO [AUTHENTICATIONFAILED] Invalid credentials");
          });
        }
        return;
    }
    account_ = account;
    login_tag_ = tag;
    RM_LOG(kInfo, "imap_login").kv("conn", conn_->id()).kv("user", account);
    const int owner = service_.owner_of(account);
    if (owner != shard_->index()) {
      conn_->move_to_shard(owner);  // on_moved() goes on there
      return;
    }
    after_login_moved();
  }

  void after_login_moved() {
    service_.hub(*shard_).provision(account_, [this, alive = alive_](Status s) {
      if (!*alive) return;
      if (!s.ok()) {
        RM_LOG(kWarn, "imap_provision_failed").kv("user", account_).kv("error", s);
      }
      state_ = State::kAuthenticated;
      conn_->set_deadline_in(options_.imap_idle_timeout_ms);
      const std::string tag = std::move(login_tag_);
      done(tag, "OK [CAPABILITY " + capabilities() + "] Logged in");
    });
  }

  void cmd_enable(const imap::ImapCommand& cmd) {
    std::string enabled;
    for (const std::string& cap : cmd.enable) {
      if (cap == "CONDSTORE") {
        condstore_ = true;
      } else if (cap == "IMAP4REV2") {
        rev2_ = true;
        utf8_ = true;
      } else if (cap == "UTF8=ACCEPT") {
        utf8_ = true;
      } else {
        continue;
      }
      enabled += ' ';
      enabled += cap == "IMAP4REV2" ? "IMAP4rev2" : cap;
    }
    write("* ENABLED" + enabled + "\r\n");
    tagged(cmd.tag, "OK ENABLE completed");
  }

  // ---- mailboxes ----

  AccountHub& hub() { return service_.hub(*shard_); }

  void unselect() {
    if (view_) {
      view_->unwatch(this);
      view_.reset();
      uids_.reset();
    }
    saved_.clear();
    if (state_ == State::kSelected) state_ = State::kAuthenticated;
  }

  void cmd_select(const imap::ImapCommand& cmd) {
    if (view_) write("* OK [CLOSED] Previous mailbox closed\r\n");  // RFC 9051 §7.1
    unselect();
    busy_ = true;
    const bool examine = cmd.kind == CommandKind::kExamine;
    condstore_ = condstore_ || cmd.condstore;
    hub().open(account_, cmd.mailbox,
               [this, alive = alive_, tag = cmd.tag, examine](Result<std::shared_ptr<MailboxView>> r) {
                 if (!*alive) return;
                 if (!r.ok()) {
                   done(tag, status_text(r.status()));
                   return;
                 }
                 select_view(*r, examine);
                 done(tag, examine ? "OK [READ-ONLY] EXAMINE completed"
                                   : "OK [READ-WRITE] SELECT completed");
               });
  }

  void select_view(std::shared_ptr<MailboxView> view, bool read_only) {
    view_ = std::move(view);
    view_->watch(this);
    uids_ = view_->uids();
    synced_modseq_ = view_->highest_modseq();
    read_only_ = read_only;
    state_ = State::kSelected;
    std::string out = "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft";
    for (const std::string& k : view_->keyword_names()) out += " " + k;
    out += ")\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft";
    for (const std::string& k : view_->keyword_names()) out += " " + k;
    out += read_only ? ")] No permanent flags permitted\r\n" : " \\*)] Flags permitted\r\n";
    out += "* " + std::to_string(uids_->size()) + " EXISTS\r\n";
    if (!rev2_) {
      out += "* 0 RECENT\r\n";
      const auto& msgs = view_->messages();
      for (size_t i = 0; i < msgs.size(); ++i) {
        if ((msgs[i].flags & kFlagSeen) == 0) {
          out += "* OK [UNSEEN " + std::to_string(i + 1) + "] First unseen\r\n";
          break;
        }
      }
    }
    out += "* OK [UIDVALIDITY " + std::to_string(view_->uidvalidity()) + "] UIDs valid\r\n";
    out += "* OK [UIDNEXT " + std::to_string(view_->uidnext()) + "] Predicted next UID\r\n";
    out += "* OK [HIGHESTMODSEQ " + std::to_string(view_->highest_modseq()) + "] Highest\r\n";
    write(out);
  }

  void cmd_create(const imap::ImapCommand& cmd) {
    std::string name = cmd.mailbox;
    while (!name.empty() && name.back() == kDelimiter) name.pop_back();
    if (name.empty() || name == kInbox) {
      tagged(cmd.tag, "NO [ALREADYEXISTS] Mailbox already exists");
      return;
    }
    busy_ = true;
    hub().create(account_, name, special_use_bits(cmd.special_use),
                 [this, alive = alive_, tag = cmd.tag](Status s) {
                   if (*alive) done(tag, s.ok() ? "OK CREATE completed" : status_text(s));
                 });
  }

  void cmd_delete(const imap::ImapCommand& cmd) {
    if (cmd.mailbox == kInbox) {
      tagged(cmd.tag, "NO [CANNOT] INBOX cannot be deleted");
      return;
    }
    if (view_ && view_->name() == cmd.mailbox) unselect();
    busy_ = true;
    hub().remove(account_, cmd.mailbox, [this, alive = alive_, tag = cmd.tag](Status s) {
      if (*alive) done(tag, s.ok() ? "OK DELETE completed" : status_text(s));
    });
  }

  void cmd_rename(const imap::ImapCommand& cmd) {
    if (view_ && (view_->name() == cmd.mailbox || view_->name() == cmd.new_mailbox)) unselect();
    busy_ = true;
    hub().rename(account_, cmd.mailbox, cmd.new_mailbox,
                 [this, alive = alive_, tag = cmd.tag](Status s) {
                   if (*alive) done(tag, s.ok() ? "OK RENAME completed" : status_text(s));
                 });
  }

  void cmd_subscribe(const imap::ImapCommand& cmd) {
    busy_ = true;
    const bool on = cmd.kind == CommandKind::kSubscribe;
    hub().subscribe(account_, cmd.mailbox, on, [this, alive = alive_, tag = cmd.tag, on](Status s) {
      if (*alive) done(tag, s.ok() ? (on ? "OK SUBSCRIBE completed" : "OK UNSUBSCRIBE completed")
                                   : status_text(s));
    });
  }

  void append_name(std::string& out, std::string_view name) {
    if (utf8_) {
      imap::append_astring(out, name, true);
      return;
    }
    std::optional<std::string> encoded = imap::mutf7_encode(name);
    imap::append_astring(out, encoded ? *encoded : std::string(name), false);
  }

  void cmd_list(const imap::ImapCommand& cmd) {
    const bool lsub = cmd.kind == CommandKind::kLsub;
    const imap::ListArgs args = cmd.list;
    if (!lsub && args.patterns.size() == 1 && args.patterns[0].empty()) {
      write("* LIST (\\Noselect) \"/\" \"\"\r\n");  // the delimiter query
      tagged(cmd.tag, "OK LIST completed");
      return;
    }
    busy_ = true;
    hub().list(account_, [this, alive = alive_, tag = cmd.tag, args,
                          lsub](Result<std::vector<MailboxListing>> listing) {
      if (!*alive) return;
      if (!listing.ok()) {
        done(tag, status_text(listing.status()));
        return;
      }
      hub().subscriptions(account_, [this, alive, tag, args, lsub,
                                     all = std::move(*listing)](Result<std::vector<std::string>> subs) {
        if (!*alive) return;
        if (!subs.ok()) {
          done(tag, status_text(subs.status()));
          return;
        }
        list_answer(tag, args, lsub, all, *subs);
      });
    });
  }

  void list_answer(const std::string& tag, const imap::ListArgs& args, bool lsub,
                   const std::vector<MailboxListing>& all, const std::vector<std::string>& subs) {
    const std::set<std::string> subscribed(subs.begin(), subs.end());
    std::vector<std::string> patterns;
    for (const std::string& p : args.patterns) {
      patterns.push_back(list_full_pattern(args.reference, p, kDelimiter));
    }
    const bool only_subscribed = lsub || (args.selection & imap::kListSubscribed);
    const bool only_special = args.selection & imap::kListSpecialUse;
    std::string out;
    std::vector<std::string> status_names;
    for (const MailboxListing& m : all) {
      bool match = false;
      for (const std::string& p : patterns) match = match || list_pattern_matches(p, m.name, kDelimiter);
      if (!match) continue;
      const bool is_subscribed = subscribed.count(m.name) > 0;
      if (only_subscribed && !is_subscribed) continue;
      if (only_special && m.info.special_use == 0) continue;
      bool children = false;
      for (const MailboxListing& o : all) {
        children = children || (o.name.size() > m.name.size() + 1 &&
                                o.name.compare(0, m.name.size(), m.name) == 0 &&
                                o.name[m.name.size()] == kDelimiter);
      }
      out += lsub ? "* LSUB (" : "* LIST (";
      out += children ? "\\HasChildren" : "\\HasNoChildren";
      if (is_subscribed && !lsub && (args.extended || args.returns & imap::kListReturnSubscribed)) {
        out += " \\Subscribed";
      }
      append_special_use(out, m.info.special_use);
      out += ") \"/\" ";
      append_name(out, m.name);
      out += "\r\n";
      if (args.returns & imap::kListReturnStatus) status_names.push_back(m.name);
    }
    write(out);
    if (status_names.empty()) {
      done(tag, lsub ? "OK LSUB completed" : "OK LIST completed");
      return;
    }
    status_chain(tag, std::move(status_names), 0, args.status_items, "OK LIST completed");
  }

  void cmd_status(const imap::ImapCommand& cmd) {
    busy_ = true;
    status_chain(cmd.tag, {cmd.mailbox}, 0, cmd.status_items, "OK STATUS completed");
  }

  // STATUS for names[i..], one view at a time, then the tagged answer.
  void status_chain(const std::string& tag, std::vector<std::string> names, size_t i,
                    uint32_t items, const std::string& ok) {
    if (i == names.size()) {
      done(tag, ok);
      return;
    }
    const std::string name = names[i];
    hub().open(account_, name, [this, alive = alive_, tag, names = std::move(names), i, items,
                                ok](Result<std::shared_ptr<MailboxView>> r) mutable {
      if (!*alive) return;
      if (!r.ok()) {
        if (names.size() == 1) {
          done(tag, status_text(r.status()));
          return;
        }
      } else {
        write_status(**r, items);
      }
      status_chain(tag, std::move(names), i + 1, items, ok);
    });
  }

  void write_status(const MailboxView& v, uint32_t items) {
    std::string out = "* STATUS ";
    append_name(out, v.name());
    out += " (";
    auto item = [&](const char* name, uint64_t value) {
      if (out.back() != '(') out += ' ';
      out += name;
      out += ' ';
      out += std::to_string(value);
    };
    if (items & imap::kStatusMessages) item("MESSAGES", v.size());
    if (items & imap::kStatusRecent) item("RECENT", 0);
    if (items & imap::kStatusUidNext) item("UIDNEXT", v.uidnext());
    if (items & imap::kStatusUidValidity) item("UIDVALIDITY", v.uidvalidity());
    if (items & imap::kStatusUnseen) item("UNSEEN", v.unseen());
    if (items & imap::kStatusDeleted) item("DELETED", v.deleted());
    if (items & imap::kStatusSize) item("SIZE", v.info().bytes);
    if (items & imap::kStatusHighestModSeq) item("HIGHESTMODSEQ", v.highest_modseq());
    out += ")\r\n";
    write(out);
  }

  // ---- APPEND ----

  // Messages are kept with CRLF line ends (as SMTP delivers them), so that RFC822.SIZE,
  // FETCH and POP3 all count the same bytes.
  static std::string with_crlf(std::string_view data) {
    std::string out;
    out.reserve(data.size() + data.size() / 32);
    size_t pos = 0;
    for (size_t lf = data.find('\n'); lf != std::string_view::npos; lf = data.find('\n', pos)) {
      out.append(data.substr(pos, lf - pos));
      if (lf == 0 || data[lf - 1] != '\r') out += '\r';
      out += '\n';
      pos = lf + 1;
    }
    out.append(data.substr(pos));
    return out;
  }

  // APPENDs do not wait for each other: a client that pipelines many gets them written
  // together (the hub's group commit); their answers still go out in order. Any other
  // command waits until the APPENDs before it are answered.
  struct AppendJob {
    std::string tag;
    size_t pending = 0;
    uint32_t uidvalidity = 0;
    std::vector<uint32_t> uids;
    std::string failure;  // the first failure's answer
  };

  void cmd_append(imap::ImapCommand& cmd) {
    auto job = std::make_shared<AppendJob>();
    job->tag = cmd.tag;
    std::vector<std::string> bodies;  // copies: the data views point into the reader's buffer
    for (const imap::AppendMessage& m : cmd.append) {
      if (m.data.empty()) {
        tagged(cmd.tag, "NO [CANNOT] Cannot store an empty message");
        return;
      }
      uint64_t ignored = 0;
      if (auto view = hub().loaded(account_, cmd.mailbox);
          view && !view->keyword_bits(m.flags.keywords, ignored)) {
        tagged(cmd.tag, "NO [LIMIT] Too many keywords in this mailbox");
        return;
      }
      bodies.push_back(with_crlf(m.data));
    }
    job->pending = bodies.size();
    ++appends_in_flight_;
    for (size_t i = 0; i < bodies.size(); ++i) {
      const imap::AppendMessage& m = cmd.append[i];
      const int64_t date_ms = m.date ? m.date->unix_s * 1000 : unix_ms();
      hub().append(account_, cmd.mailbox, std::move(bodies[i]), store_flags(m.flags.system),
                   m.flags.keywords, date_ms,
                   [this, alive = alive_, job](Result<std::pair<MessageEntry, uint32_t>> r) {
                     if (*alive) append_done(*job, std::move(r));
                   });
    }
  }

  void append_done(AppendJob& job, Result<std::pair<MessageEntry, uint32_t>> r) {
    if (!r.ok()) {
      if (job.failure.empty()) {
        job.failure = r.status().code() == StatusCode::kNotFound ? "NO [TRYCREATE] No such mailbox"
                                                                 : status_text(r.status());
      }
    } else {
      job.uids.push_back(r->first.uid);
      job.uidvalidity = r->second;
    }
    if (--job.pending > 0) return;
    if (job.failure.empty()) {
      std::sort(job.uids.begin(), job.uids.end());
      tagged(job.tag, "OK [APPENDUID " + std::to_string(job.uidvalidity) + " " +
                          imap::format_sequence_set(job.uids) + "] APPEND completed");
    } else {
      tagged(job.tag, job.failure);
    }
    if (--appends_in_flight_ == 0 && held_) {
      imap::ImapCommand held = std::move(*held_);
      held_.reset();
      busy_ = false;
      execute(held);
      if (!busy_) resume();
    }
  }

  // ---- selected state ----

  // The messages a set names, as (sequence number, UID), in order; only those the view
  // still has.
  std::vector<std::pair<uint32_t, uint32_t>> resolve(const imap::SequenceSet& set, bool uid) {
    std::vector<std::pair<uint32_t, uint32_t>> out;
    const UidList& uids = *uids_;
    if (uids.empty()) return out;
    if (set.is_saved_result()) {
      for (uint32_t u : saved_) {
        auto it = std::lower_bound(uids.begin(), uids.end(), u);
        if (it != uids.end() && *it == u && view_->find(u)) {
          out.emplace_back(static_cast<uint32_t>(it - uids.begin() + 1), u);
        }
      }
      return out;
    }
    if (uid) {
      const imap::ResolvedSet r = set.resolve(uids.back());
      for (const auto& range : r.ranges()) {
        auto it = std::lower_bound(uids.begin(), uids.end(), range.first);
        for (; it != uids.end() && *it <= range.last; ++it) {
          if (view_->find(*it)) out.emplace_back(static_cast<uint32_t>(it - uids.begin() + 1), *it);
        }
      }
      return out;
    }
    const imap::ResolvedSet r = set.resolve(static_cast<uint32_t>(uids.size()));
    for (const auto& range : r.ranges()) {
      for (uint32_t seq = range.first; seq <= range.last && seq <= uids.size(); ++seq) {
        if (view_->find(uids[seq - 1])) out.emplace_back(seq, uids[seq - 1]);
        if (seq == UINT32_MAX) break;
      }
    }
    return out;
  }

  bool check_sequence(const imap::ImapCommand& cmd) {
    if (!cmd.uid && !cmd.sequence.is_saved_result() &&
        !cmd.sequence.within(static_cast<uint32_t>(uids_->size()))) {
      bad(cmd.tag, "Invalid message sequence number");
      return false;
    }
    return true;
  }

  void cmd_close(const imap::ImapCommand& cmd, bool expunge) {
    if (!expunge || read_only_) {
      unselect();
      tagged(cmd.tag, expunge ? "OK CLOSE completed" : "OK UNSELECT completed");
      return;
    }
    std::vector<uint32_t> gone;
    for (const MessageMeta& m : view_->messages()) {
      if (m.flags & kFlagDeleted) gone.push_back(m.uid);
    }
    const std::string name = view_->name();
    unselect();  // CLOSE reports no EXPUNGE
    if (gone.empty()) {
      tagged(cmd.tag, "OK CLOSE completed");
      return;
    }
    busy_ = true;
    hub().expunge(account_, name, std::move(gone), [this, alive = alive_, tag = cmd.tag](Result<uint64_t> r) {
      if (*alive) done(tag, r.ok() ? "OK CLOSE completed" : status_text(r.status()));
    });
  }

  void cmd_expunge(const imap::ImapCommand& cmd) {
    if (read_only_) {
      tagged(cmd.tag, "NO [READ-ONLY] Mailbox is read-only");
      return;
    }
    std::vector<uint32_t> gone;
    if (cmd.uid) {
      for (const auto& [seq, uid] : resolve(cmd.sequence, true)) {
        const MessageMeta* m = view_->find(uid);
        if (m && (m->flags & kFlagDeleted)) gone.push_back(uid);
      }
    } else {
      for (const MessageMeta& m : view_->messages()) {
        if (m.flags & kFlagDeleted) gone.push_back(m.uid);
      }
    }
    if (gone.empty()) {
      tagged(cmd.tag, "OK EXPUNGE completed");
      return;
    }
    busy_ = true;
    hub().expunge(account_, view_->name(), std::move(gone),
                  [this, alive = alive_, tag = cmd.tag](Result<uint64_t> r) {
                    if (*alive) done(tag, r.ok() ? "OK EXPUNGE completed" : status_text(r.status()));
                  });
  }

  void cmd_store(const imap::ImapCommand& cmd) {
    if (read_only_) {
      tagged(cmd.tag, "NO [READ-ONLY] Mailbox is read-only");
      return;
    }
    if (!check_sequence(cmd)) return;
    uint64_t keyword_check = 0;
    if (!view_->keyword_bits(cmd.store.flags.keywords, keyword_check)) {
      tagged(cmd.tag, "NO [LIMIT] Too many keywords in this mailbox");
      return;
    }
    auto targets = resolve(cmd.sequence, cmd.uid);
    std::vector<uint32_t> uids;
    for (const auto& t : targets) uids.push_back(t.second);
    FlagChange change;
    change.mode = cmd.store.mode == imap::StoreMode::kAdd      ? FlagMode::kAdd
                  : cmd.store.mode == imap::StoreMode::kRemove ? FlagMode::kRemove
                                                               : FlagMode::kReplace;
    change.flags = store_flags(cmd.store.flags.system);
    change.keywords = cmd.store.flags.keywords;
    change.unchanged_since = cmd.store.unchanged_since.value_or(0);
    const bool conditional = cmd.store.unchanged_since.has_value();
    if (conditional) condstore_ = true;
    if (uids.empty()) {
      tagged(cmd.tag, "OK STORE completed");
      return;
    }
    busy_ = true;
    const uint64_t before = view_->highest_modseq();
    hub().change_flags(
        account_, view_->name(), std::move(uids), std::move(change),
        [this, alive = alive_, tag = cmd.tag, uid_form = cmd.uid, silent = cmd.store.silent,
         targets = std::move(targets), before](Result<FlagChangeResult> r) {
          if (!*alive || !view_) return;
          if (!r.ok()) {
            done(tag, status_text(r.status()));
            return;
          }
          std::set<uint32_t> changed;
          for (const MessageEntry& e : r->changed) changed.insert(e.uid);
          std::string out;
          for (const auto& [seq, uid] : targets) {
            const MessageMeta* m = view_->find(uid);
            if (!m || (silent && !(condstore_ && changed.count(uid)))) continue;
            if (!changed.count(uid) && silent) continue;
            out += "* " + std::to_string(seq) + " FETCH (";
            if (uid_form) out += "UID " + std::to_string(uid) + " ";
            if (!silent) append_flags(out, *m, *view_);
            if (condstore_) {
              if (!silent) out += ' ';
              out += "MODSEQ (" + std::to_string(m->modseq) + ")";
            }
            out += ")\r\n";
          }
          write(out);
          if (before == synced_modseq_) synced_modseq_ = std::max(synced_modseq_, r->highest_modseq);
          if (!r->modified.empty()) {
            std::vector<uint32_t> numbers;
            for (uint32_t u : r->modified) {
              if (uid_form) {
                numbers.push_back(u);
              } else {
                for (const auto& [seq, uid] : targets) {
                  if (uid == u) numbers.push_back(seq);
                }
              }
            }
            std::sort(numbers.begin(), numbers.end());
            done(tag, "OK [MODIFIED " + imap::format_sequence_set(numbers) +
                          "] Conditional STORE failed for some messages");
            return;
          }
          done(tag, "OK STORE completed");
        });
  }

  void cmd_copy(const imap::ImapCommand& cmd) {
    const bool move = cmd.kind == CommandKind::kMove;
    if (move && read_only_) {
      tagged(cmd.tag, "NO [READ-ONLY] Mailbox is read-only");
      return;
    }
    if (!check_sequence(cmd)) return;
    auto targets = resolve(cmd.sequence, cmd.uid);
    std::vector<uint32_t> uids;
    for (const auto& t : targets) uids.push_back(t.second);
    if (uids.empty()) {
      tagged(cmd.tag, move ? "OK MOVE completed" : "OK COPY completed");
      return;
    }
    busy_ = true;
    hub().copy(account_, view_->name(), cmd.mailbox, std::move(uids), move,
               [this, alive = alive_, tag = cmd.tag, move](Result<CopyResult> r) {
                 if (!*alive) return;
                 if (!r.ok()) {
                   done(tag, r.status().code() == StatusCode::kNotFound
                                 ? "NO [TRYCREATE] No such mailbox"
                                 : status_text(r.status()));
                   return;
                 }
                 std::vector<uint32_t> dest;
                 for (const MessageEntry& e : r->copies) dest.push_back(e.uid);
                 const std::string code = "[COPYUID " + std::to_string(r->uidvalidity) + " " +
                                          imap::format_sequence_set(r->source_uids) + " " +
                                          imap::format_sequence_set(dest) + "]";
                 if (move) {
                   write("* OK " + code + " Moved\r\n");
                   done(tag, "OK MOVE completed");
                 } else {
                   done(tag, "OK " + code + " COPY completed");
                 }
               });
  }

  void cmd_idle(const imap::ImapCommand& cmd) {
    idle_tag_ = cmd.tag;
    std::string out;
    if (view_) report_changes(out, true);
    out += "+ idling\r\n";
    write(out);
  }

  void end_idle(std::string_view line) {
    const std::string tag = std::move(idle_tag_);
    idle_tag_.clear();
    if (!imap::is_idle_done(line)) {
      bad(tag, "Expected DONE");
      return;
    }
    tagged(tag, "OK IDLE terminated");
  }

  // ---- SEARCH ----

  void cmd_search(imap::ImapCommand& cmd) {
    if (!cmd.search.charset.empty() && cmd.search.charset != "UTF-8" &&
        cmd.search.charset != "US-ASCII") {
      tagged(cmd.tag, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
      return;
    }
    auto job = std::make_shared<SearchJob>();
    job->tag = cmd.tag;
    job->uid = cmd.uid;
    job->args = std::move(cmd.search);
    for (uint32_t seq = 1; seq <= uids_->size(); ++seq) {
      if (view_->find((*uids_)[seq - 1])) job->targets.emplace_back(seq, (*uids_)[seq - 1]);
    }
    imap::prepare_search(job->args.key, search_context());
    if (!job->args.key.expensive) {
      search_batch(job, nullptr);
      finish_search(*job);
      return;
    }
    busy_ = true;
    search_next(job);
  }

  imap::SearchContext search_context() const {
    imap::SearchContext ctx;
    ctx.message_count = static_cast<uint32_t>(uids_->size());
    ctx.uid_max = uids_->empty() ? 0 : uids_->back();
    return ctx;
  }

  struct SearchJob {
    std::string tag;
    bool uid = false;
    imap::SearchArgs args;
    std::vector<std::pair<uint32_t, uint32_t>> targets;
    size_t next = 0;
    std::vector<uint32_t> matches;  // sequence numbers or UIDs
    std::vector<uint32_t> match_uids;
    uint64_t top_modseq = 0;
  };

  void search_batch(const std::shared_ptr<SearchJob>& job, const std::vector<StoredMessage>* stored) {
    const imap::SearchContext ctx = search_context();
    const std::set<uint32_t> saved(saved_.begin(), saved_.end());
    const size_t end = stored ? std::min(job->targets.size(), job->next + kFetchBatch)
                              : job->targets.size();
    size_t s = 0;
    for (size_t i = job->next; i < end; ++i) {
      const auto [seq, uid] = job->targets[i];
      const MessageMeta* m = view_->find(uid);
      if (!m) continue;
      const StoredMessage* message = nullptr;
      if (stored) {
        while (s < stored->size() && (*stored)[s].entry.uid < uid) ++s;
        if (s < stored->size() && (*stored)[s].entry.uid == uid) message = &(*stored)[s];
      }
      StoredSearchSubject subject(seq, *m, *view_, message, saved.count(uid) > 0);
      if (imap::search_matches(job->args.key, subject, ctx)) {
        job->matches.push_back(job->uid ? uid : seq);
        job->match_uids.push_back(uid);
        job->top_modseq = std::max(job->top_modseq, m->modseq);
      }
    }
    job->next = end;
  }

  void search_next(std::shared_ptr<SearchJob> job) {
    if (!view_) return;
    if (job->next >= job->targets.size()) {
      finish_search(*job);
      resume();
      return;
    }
    std::vector<uint32_t> uids;
    const size_t end = std::min(job->targets.size(), job->next + kFetchBatch);
    for (size_t i = job->next; i < end; ++i) uids.push_back(job->targets[i].second);
    hub().read(account_, view_->name(), std::move(uids), true, nullptr,
               [this, alive = alive_, job](Result<std::vector<StoredMessage>> r) {
                 if (!*alive || !view_) return;
                 if (!r.ok()) {
                   done(job->tag, status_text(r.status()));
                   return;
                 }
                 search_batch(job, &*r);
                 search_next(job);
               });
  }

  void finish_search(SearchJob& job) {
    const uint32_t returns = job.args.returns;
    const bool uses_modseq = condstore_ && job.args.key.kind != imap::SearchKeyKind::kAll &&
                             has_modseq_key(job.args.key);
    if (returns & imap::kSearchReturnSave) saved_ = job.match_uids;
    std::string out;
    if ((job.args.esearch || rev2_) && returns == imap::kSearchReturnSave) {
      // RETURN (SAVE) alone: the result is kept, and nothing is sent (RFC 5182 §2.1).
    } else if (job.args.esearch || rev2_) {
      out = "* ESEARCH (TAG \"" + job.tag + "\")";
      if (job.uid) out += " UID";
      // RETURN () means ALL; RETURN (SAVE) alone returns nothing (RFC 5182 §2.1).
      uint32_t want = returns;
      if (returns == 0) want = imap::kSearchReturnAll;
      if (returns == imap::kSearchReturnSave) want = 0;
      if (!job.matches.empty()) {
        std::vector<uint32_t> sorted = job.matches;
        std::sort(sorted.begin(), sorted.end());
        if (want & imap::kSearchReturnMin) out += " MIN " + std::to_string(sorted.front());
        if (want & imap::kSearchReturnMax) out += " MAX " + std::to_string(sorted.back());
        if (want & imap::kSearchReturnAll) out += " ALL " + imap::format_sequence_set(sorted);
      }
      if (want & imap::kSearchReturnCount) out += " COUNT " + std::to_string(job.matches.size());
      if (uses_modseq && !job.matches.empty()) out += " MODSEQ " + std::to_string(job.top_modseq);
      out += "\r\n";
    } else {
      out = "* SEARCH";
      for (uint32_t n : job.matches) out += " " + std::to_string(n);
      if (uses_modseq && !job.matches.empty()) out += " (MODSEQ " + std::to_string(job.top_modseq) + ")";
      out += "\r\n";
    }
    write(out);
    tagged(job.tag, "OK SEARCH completed");
  }

  static bool has_modseq_key(const imap::SearchKey& key) {
    if (key.kind == imap::SearchKeyKind::kModSeq) return true;
    for (const imap::SearchKey& c : key.children) {
      if (has_modseq_key(c)) return true;
    }
    return false;
  }

  // ---- FETCH ----

  void cmd_fetch(imap::ImapCommand& cmd) {
    if (!check_sequence(cmd)) return;
    auto job = std::make_unique<FetchJob>();
    job->tag = cmd.tag;
    job->uid = cmd.uid;
    job->args = std::move(cmd.fetch);
    if (job->args.changed_since) condstore_ = true;
    job->targets = resolve(cmd.sequence, cmd.uid);
    if (job->args.changed_since) {
      std::erase_if(job->targets, [&](const auto& t) {
        const MessageMeta* m = view_->find(t.second);
        return !m || m->modseq <= *job->args.changed_since;
      });
    }
    fetch_ = std::move(job);
    busy_ = true;
    if (fetch_->args.sets_seen() && !read_only_) {
      std::vector<uint32_t> unseen;
      for (const auto& t : fetch_->targets) {
        const MessageMeta* m = view_->find(t.second);
        if (m && !(m->flags & kFlagSeen)) unseen.push_back(t.second);
      }
      if (!unseen.empty()) {
        FlagChange seen;
        seen.mode = FlagMode::kAdd;
        seen.flags = kFlagSeen;
        const uint64_t before = view_->highest_modseq();
        hub().change_flags(account_, view_->name(), std::move(unseen), std::move(seen),
                           [this, alive = alive_, before](Result<FlagChangeResult> r) {
                             if (!*alive || !fetch_) return;
                             if (r.ok() && before == synced_modseq_) {
                               synced_modseq_ = r->highest_modseq;
                             }
                             if (r.ok() && !fetch_->args.has(imap::FetchAttr::kFlags)) {
                               fetch_->args.items.push_back({imap::FetchAttr::kFlags, false, {}, {}});
                               fetch_->args.attrs |= 1u << static_cast<unsigned>(imap::FetchAttr::kFlags);
                             }
                             continue_fetch();
                           });
        return;
      }
    }
    continue_fetch();
  }

  FetchOptions fetch_options() const {
    FetchOptions o;
    o.utf8 = utf8_;
    o.condstore = condstore_;
    return o;
  }

  // Sends the FETCH responses in batches. Messages that need the store are read a batch at
  // a time on the lane while the previous batch goes out (double buffering); above
  // kOutputHighBytes of unsent output the session waits for the socket to drain.
  void continue_fetch() {
    if (!fetch_ || !view_) return;
    FetchJob& job = *fetch_;
    if (!fetch_needs_message(job.args)) {
      std::string out;
      while (job.next < job.targets.size()) {
        const auto [seq, uid] = job.targets[job.next++];
        if (const MessageMeta* m = view_->find(uid)) {
          (void)append_fetch_response(out, seq, *m, *view_, nullptr, job.args, fetch_options());
        }
        if (out.size() >= kOutputLowBytes) {
          write_owned(std::move(out));
          out.clear();
          if (conn_->output_bytes() > kOutputHighBytes) {
            conn_->notify_when_drained(kOutputLowBytes);
            return;
          }
        }
      }
      write_owned(std::move(out));
      finish_fetch();
      return;
    }
    if (job.ready && conn_->output_bytes() <= kOutputHighBytes) {
      write_owned(std::move(*job.ready));
      job.ready.reset();
    }
    if (!job.reading && !job.ready && job.next < job.targets.size()) {
      read_fetch_batch();
    }
    if (job.ready) {
      conn_->notify_when_drained(kOutputLowBytes);
      return;
    }
    if (!job.reading && job.next >= job.targets.size()) {
      finish_fetch();
    }
  }

  // The next batch: up to kFetchBatch messages and kFetchBatchBytes (by the view's sizes),
  // so that a batch of large messages does not hold them all at once.
  void read_fetch_batch() {
    FetchJob& job = *fetch_;
    std::vector<uint32_t> uids;
    const size_t begin = job.next;
    size_t end = begin;
    uint64_t bytes = 0;
    while (end < job.targets.size() && end - begin < kFetchBatch) {
      const MessageMeta* m = view_->find(job.targets[end].second);
      const uint64_t size = m ? m->size : 0;
      if (end > begin && bytes + size > kFetchBatchBytes) break;
      bytes += size;
      uids.push_back(job.targets[end].second);
      ++end;
    }
    job.next = end;
    job.batch_bytes = bytes;
    job.reading = true;
    AccountHub::MimeFunction mime;
    if (fetch_needs_structure(job.args)) mime = mime_structure_of;
    hub().read(account_, view_->name(), std::move(uids), true, std::move(mime),
               [this, alive = alive_, begin, end](Result<std::vector<StoredMessage>> r) {
                 if (!*alive || !fetch_ || !view_) return;
                 fetch_->reading = false;
                 if (!r.ok()) {
                   const std::string tag = fetch_->tag;
                   fetch_.reset();
                   done(tag, status_text(r.status()));
                   return;
                 }
                 fetch_->ready = format_fetch_batch(*r, begin, end);
                 continue_fetch();
               });
  }

  std::string format_fetch_batch(const std::vector<StoredMessage>& stored, size_t begin,
                                 size_t end) {
    FetchJob& job = *fetch_;
    std::string out;
    // Whole messages (BODY[], RFC822) make an answer about their size: room for it at once,
    // no regrowing copies. (Items that look inside the message answer less.)
    if (!fetch_needs_structure(job.args)) {
      out.reserve(job.batch_bytes + (end - begin) * kFetchItemBytes);
    }
    size_t s = 0;
    for (size_t i = begin; i < end; ++i) {
      const auto [seq, uid] = job.targets[i];
      const MessageMeta* m = view_->find(uid);
      if (!m) continue;
      while (s < stored.size() && stored[s].entry.uid < uid) ++s;
      const StoredMessage* message = s < stored.size() && stored[s].entry.uid == uid ? &stored[s] : nullptr;
      if (message == nullptr) continue;  // expunged meanwhile: nothing to say about it
      if (!append_fetch_response(out, seq, *m, *view_, message, job.args, fetch_options()).ok()) {
        job.failed_cte = true;
      }
    }
    return out;
  }

  void finish_fetch() {
    const std::string tag = fetch_->tag;
    const bool cte = fetch_->failed_cte;
    fetch_.reset();
    done(tag, cte ? "NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding" : "OK FETCH completed");
  }

  // ---- untagged updates ----

  // Reports what changed in the selected mailbox since the session last looked: EXPUNGE
  // (when allowed), EXISTS, and FETCH FLAGS of messages other sessions changed.
  void report_changes(std::string& out, bool expunges_allowed) {
    if (!view_) return;
    if (view_->gone()) {
      // Another session deleted or renamed it: there is no mailbox to go on with.
      write(out + "* BYE The selected mailbox was deleted or renamed\r\n");
      out.clear();
      unselect();
      state_ = State::kLogout;
      conn_->close_after_flush();
      return;
    }
    const uint32_t known_last = uids_->empty() ? 0 : uids_->back();
    const std::shared_ptr<const UidList>& now = view_->uids();
    if (now != uids_) {
      const UidList& old = *uids_;
      std::vector<uint32_t> gone;  // sequence numbers
      size_t j = 0;
      for (size_t i = 0; i < old.size(); ++i) {
        while (j < now->size() && (*now)[j] < old[i]) ++j;
        if (j == now->size() || (*now)[j] != old[i]) gone.push_back(static_cast<uint32_t>(i + 1));
      }
      if (gone.empty() || expunges_allowed) {
        for (auto it = gone.rbegin(); it != gone.rend(); ++it) {
          out += "* " + std::to_string(*it) + " EXPUNGE\r\n";
        }
        if (now->size() + gone.size() != old.size() || gone.empty()) {
          out += "* " + std::to_string(now->size()) + " EXISTS\r\n";
        }
        uids_ = now;
      }
    }
    if (view_->highest_modseq() > synced_modseq_) {
      const UidList& uids = *uids_;
      for (const MessageMeta& m : view_->messages()) {
        if (m.modseq <= synced_modseq_ || m.uid > known_last) continue;  // new: EXISTS says it
        auto it = std::lower_bound(uids.begin(), uids.end(), m.uid);
        if (it == uids.end() || *it != m.uid) continue;  // not announced yet
        out += "* " + std::to_string(it - uids.begin() + 1) + " FETCH (UID " +
               std::to_string(m.uid) + " ";
        append_flags(out, m, *view_);
        if (condstore_) out += " MODSEQ (" + std::to_string(m.modseq) + ")";
        out += ")\r\n";
      }
      synced_modseq_ = view_->highest_modseq();
    }
  }

  AccessService& service_;
  const AccessOptions& options_;
  Connection* conn_;
  Shard* shard_;
  const bool implicit_tls_;
  imap::ImapCommandReader reader_;
  State state_ = State::kNotAuthenticated;
  bool tls_ = false;
  bool busy_ = false;
  bool big_command_ = false;
  bool utf8_ = false;
  bool rev2_ = false;
  bool condstore_ = false;
  bool read_only_ = false;
  bool allow_updates_after_ = true;
  bool expunge_ok_ = true;
  uint32_t errors_ = 0;
  std::string account_;
  std::string login_tag_;
  std::string sasl_tag_;
  std::string idle_tag_;
  std::shared_ptr<MailboxView> view_;
  std::shared_ptr<const UidList> uids_;  // the sequence numbers the client knows
  uint64_t synced_modseq_ = 0;
  std::vector<uint32_t> saved_;  // SEARCHRES "$" (UIDs)
  std::unique_ptr<FetchJob> fetch_;
  uint32_t appends_in_flight_ = 0;          // APPEND commands not yet answered
  std::optional<imap::ImapCommand> held_;   // the command waiting for them
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<ConnectionHandler> make_imap_connection(AccessService& service, bool implicit_tls,
                                                        Connection& conn) {
  return std::make_unique<ImapConnection>(service, implicit_tls, conn);
}

}  // namespace rm
