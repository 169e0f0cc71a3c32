#include "proto/dmarc/from_domain.h"

#include <optional>

#include "core/base/status.h"
#include "proto/dmarc/domain_name.h"
#include "proto/mail_auth/header_fields.h"

namespace rm::dmarc {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Walks an address-list and keeps, for each mailbox, its addr-spec with comments and white
// space removed and quoted strings replaced by a placeholder (their '@' is not a separator).
class MailboxScanner {
 public:
  explicit MailboxScanner(std::string_view value) : s_(value) {}

  // kNone with the single addr-spec in `spec`, or the error.
  FromError run(std::string& spec);

 private:
  bool skip_comment();  // at '(' ; false when unterminated
  bool skip_quoted();   // at '"' ; false when unterminated
  bool copy_literal();  // at '[' ; false when unterminated
  void end_mailbox();
  std::string& text() { return in_angle_ ? angle_ : plain_; }

  std::string_view s_;
  size_t pos_ = 0;
  bool in_angle_ = false;
  bool saw_angle_ = false;
  bool in_group_ = false;
  std::string angle_, plain_;
  size_t mailboxes_ = 0;
  std::string first_;
};

bool MailboxScanner::skip_comment() {
  size_t depth = 0;
  for (; pos_ < s_.size(); ++pos_) {
    char c = s_[pos_];
    if (c == '\\') {
      ++pos_;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0) {
      return true;
    }
  }
  return false;
}

bool MailboxScanner::skip_quoted() {
  for (++pos_; pos_ < s_.size(); ++pos_) {
    if (s_[pos_] == '\\') {
      ++pos_;
    } else if (s_[pos_] == '"') {
      text().push_back('q');  // stands for the quoted local part or display-name word
      return true;
    }
  }
  return false;
}

bool MailboxScanner::copy_literal() {
  size_t close = s_.find(']', pos_);
  if (close == std::string_view::npos) {
    return false;
  }
  text().append(s_.substr(pos_, close + 1 - pos_));
  pos_ = close;
  return true;
}

void MailboxScanner::end_mailbox() {
  std::string& spec = saw_angle_ ? angle_ : plain_;
  if (!spec.empty()) {
    if (mailboxes_ == 0) {
      first_ = spec;
    }
    ++mailboxes_;
  }
  angle_.clear();
  plain_.clear();
  saw_angle_ = false;
}

FromError MailboxScanner::run(std::string& spec) {
  for (; pos_ < s_.size(); ++pos_) {
    char c = s_[pos_];
    bool ok = true;
    if (c == '(') {
      ok = skip_comment();
    } else if (c == '"') {
      ok = skip_quoted();
    } else if (c == '[') {
      ok = copy_literal();
    } else if (c == '<') {
      ok = !in_angle_ && !saw_angle_;
      in_angle_ = saw_angle_ = true;
    } else if (c == '>') {
      ok = in_angle_;
      in_angle_ = false;
    } else if (c == ':' && in_angle_) {
      angle_.clear();  // the end of an obsolete source route "<@a,@b:user@domain>"
    } else if (c == ':') {
      ok = !in_group_;  // a group's display name ends here
      in_group_ = true;
      plain_.clear();
    } else if ((c == ',' || c == ';') && !in_angle_) {
      ok = c == ',' || in_group_;
      in_group_ = in_group_ && c != ';';
      end_mailbox();
    } else if (!is_space(c)) {
      text().push_back(c);
    }
    if (!ok) {
      return FromError::kSyntax;
    }
  }
  if (in_angle_ || in_group_) {
    return FromError::kSyntax;
  }
  end_mailbox();
  if (mailboxes_ == 0) {
    return FromError::kNoAddress;
  }
  if (mailboxes_ > 1) {
    return FromError::kMultipleAddresses;
  }
  spec = std::move(first_);
  return FromError::kNone;
}

}  // namespace

std::string_view from_error_name(FromError e) {
  switch (e) {
    case FromError::kNone:
      return "ok";
    case FromError::kNoFrom:
      return "no From field";
    case FromError::kMultipleFrom:
      return "more than one From field";
    case FromError::kNoAddress:
      return "no address in From";
    case FromError::kMultipleAddresses:
      return "more than one address in From";
    case FromError::kSyntax:
      return "syntax error in From";
    case FromError::kNoDomain:
      return "no domain in From";
    case FromError::kBadDomain:
      return "invalid domain in From";
    case FromError::kTooLong:
      return "From field too long";
  }
  return "unknown";
}

FromDomain from_domain_of_value(std::string_view value) {
  FromDomain out;
  if (value.size() > kFromValueBytesMax) {
    out.error = FromError::kTooLong;
    return out;
  }
  std::string spec;
  out.error = MailboxScanner(value).run(spec);
  if (!out.ok()) {
    return out;
  }
  size_t at = spec.rfind('@');
  std::string_view domain =
      at == std::string::npos ? std::string_view() : std::string_view(spec).substr(at + 1);
  if (domain.empty() || domain.front() == '[') {
    out.error = FromError::kNoDomain;
    return out;
  }
  Result<std::string> normal = normalize_domain(domain);
  if (!normal.ok()) {
    out.error = FromError::kBadDomain;
    return out;
  }
  out.domain = std::move(normal).value();
  return out;
}

FromDomain extract_from_domain(std::string_view header_block) {
  std::optional<std::string_view> value;
  mail_auth::HeaderFieldReader reader(header_block);
  while (std::optional<mail_auth::HeaderField> f = reader.next()) {
    if (!mail_auth::header_name_is(f->name, "From")) {
      continue;
    }
    if (value) {
      return FromDomain{FromError::kMultipleFrom, {}};
    }
    value = f->value;
  }
  if (!value) {
    return FromDomain{FromError::kNoFrom, {}};
  }
  return from_domain_of_value(*value);
}

}  // namespace rm::dmarc
