#include "proto/mime/address_list.h"

namespace rm::mime {
namespace {

enum class TokKind : uint8_t { kWord, kQuoted, kLiteral, kSpecial, kComment };

struct Token {
  TokKind kind;
  std::string_view raw;  // as written (a quoted string with its quotes)
  std::string text;      // words: the text for a display name
  bool space_before = false;
  char special() const { return kind == TokKind::kSpecial ? raw[0] : '\0'; }
};

bool is_special(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '[':
    case ']':
      return true;
    default:
      return false;
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Reads up to the matching `close`, honouring backslash escapes (and nesting for comments).
size_t delimited_end(std::string_view s, size_t i, char open, char close, std::string& text) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      text.push_back(s[++i]);
      continue;
    }
    if (c == open && (open != close || depth == 0)) {
      if (depth++ > 0) {
        text.push_back(c);
      }
      continue;
    }
    if (c == close && --depth == 0) {
      return i + 1;
    }
    if (c != '\r' && c != '\n') {
      text.push_back(c);
    }
  }
  return s.size();
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  bool space = false;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    Token t{TokKind::kWord, {}, {}, space};
    const size_t start = i;
    if (c == '"') {
      t.kind = TokKind::kQuoted;
      i = delimited_end(s, i, '"', '"', t.text);
    } else if (c == '(') {
      t.kind = TokKind::kComment;
      i = delimited_end(s, i, '(', ')', t.text);
    } else if (c == '[') {
      t.kind = TokKind::kLiteral;
      i = delimited_end(s, i, '[', ']', t.text);
    } else if (is_special(c)) {
      t.kind = TokKind::kSpecial;
      ++i;
    } else {
      while (i < s.size() && !is_space(s[i]) && !is_special(s[i])) {
        ++i;
      }
    }
    t.raw = s.substr(start, i - start);
    if (t.kind == TokKind::kWord || t.kind == TokKind::kLiteral) {
      t.text = std::string(t.raw);
    }
    out.push_back(std::move(t));
    space = false;
  }
  return out;
}

class AddressParser {
 public:
  AddressParser(std::vector<Token> tokens, size_t max) : toks_(std::move(tokens)), max_(max) {}

  std::vector<ImapAddress> run() {
    while (i_ < toks_.size() && out_.size() < max_) {
      item(false);
    }
    return std::move(out_);
  }

 private:
  char special_at(size_t i) const { return i < toks_.size() ? toks_[i].special() : '\0'; }

  // Index of the first of `stops` (specials) at or after i_, or the end.
  size_t find_stop(std::string_view stops) const {
    size_t k = i_;
    while (k < toks_.size() && stops.find(special_at(k)) == std::string_view::npos) {
      ++k;
    }
    return k;
  }

  // One mailbox, group or separator.
  void item(bool in_group) {
    const char c = special_at(i_);
    if (c == ',' || (c == ';' && !in_group) || c == '>' || c == '@') {
      ++i_;
      return;
    }
    const size_t stop = find_stop(in_group ? "<,;" : "<:,;");
    const char at_stop = special_at(stop);
    if (at_stop == '<') {
      std::optional<std::string> name = phrase(i_, stop);
      i_ = stop + 1;
      angle_addr(std::move(name));
    } else if (at_stop == ':') {
      group(stop);
    } else {
      addr_spec(i_, stop, std::nullopt, true);
      i_ = stop;
    }
  }

  void group(size_t colon) {
    std::optional<std::string> name = phrase(i_, colon);
    out_.push_back(
        ImapAddress{std::nullopt, std::nullopt, name ? name : std::string(), std::nullopt});
    i_ = colon + 1;
    while (i_ < toks_.size() && special_at(i_) != ';' && out_.size() < max_) {
      item(true);
    }
    if (special_at(i_) == ';') {
      ++i_;
    }
    if (out_.size() < max_) {
      out_.push_back(ImapAddress{});
    }
  }

  void angle_addr(std::optional<std::string> name) {
    std::optional<std::string> adl;
    if (special_at(i_) == '@') {  // obsolete route: "@a,@b:"
      const size_t colon = find_stop(":><;");
      if (special_at(colon) == ':') {
        std::string route;
        for (size_t k = i_; k < colon; ++k) {
          if (toks_[k].kind != TokKind::kComment) {
            route.append(toks_[k].raw);
          }
        }
        adl = std::move(route);
        i_ = colon + 1;
      }
    }
    const size_t close = find_stop(">,;");
    addr_spec(i_, close, std::move(name), false);
    i_ = close;
    if (special_at(i_) == '>') {
      ++i_;
    }
    if (adl && !out_.empty()) {
      out_.back().adl = std::move(adl);
    }
  }

  std::optional<std::string> phrase(size_t from, size_t to) const {
    std::string name;
    for (size_t k = from; k < to; ++k) {
      const Token& t = toks_[k];
      if (t.kind == TokKind::kComment) {
        continue;
      }
      if (!name.empty() && t.space_before) {
        name.push_back(' ');
      }
      name.append(t.kind == TokKind::kSpecial ? std::string(t.raw) : t.text);
    }
    if (name.empty()) {
      return std::nullopt;
    }
    return name;
  }

  void addr_spec(size_t from, size_t to, std::optional<std::string> name, bool bare) {
    std::string local;
    std::string domain;
    bool at = false;
    std::optional<std::string> comment;
    for (size_t k = from; k < to; ++k) {
      const Token& t = toks_[k];
      if (t.kind == TokKind::kComment) {
        if (!comment) {
          comment = t.text;
        }
        continue;
      }
      if (!at && t.special() == '@') {
        at = true;
        continue;
      }
      (at ? domain : local).append(t.raw);
    }
    if (local.empty() && domain.empty()) {
      if (!bare && name) {  // "Name <>": keep the name
        out_.push_back(ImapAddress{std::move(name), std::nullopt, std::string(), std::nullopt});
      }
      return;
    }
    if (bare && !name && comment && !comment->empty()) {
      name = std::move(comment);
    }
    ImapAddress a;
    a.name = std::move(name);
    a.mailbox = std::move(local);
    if (!domain.empty()) {
      a.host = std::move(domain);
    }
    out_.push_back(std::move(a));
  }

  std::vector<Token> toks_;
  size_t max_;
  size_t i_ = 0;
  std::vector<ImapAddress> out_;
};

}  // namespace

std::vector<ImapAddress> parse_address_list(std::string_view value, size_t addresses_max) {
  return AddressParser(tokenize(value), addresses_max).run();
}

}  // namespace rm::mime
