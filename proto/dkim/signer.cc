#include "proto/dkim/signer.h"

#include "core/base/base64.h"
#include "proto/dkim/signature.h"

namespace rm {
namespace {

// Builds a folded header field: pieces are separated by a space, or by CRLF TAB when the
// line would get longer than the width.
class FieldWriter {
 public:
  FieldWriter(std::string_view name, size_t width) : width_(width) {
    text_ = std::string(name) + ":";
    line_ = text_.size();
  }

  // `space` says whether a space separates this piece from the previous one on a line.
  void add(std::string_view piece, bool space = true) {
    size_t sep = space ? 1 : 0;
    if (line_ + sep + piece.size() > width_ && line_ > 1) {
      text_ += "\r\n\t";
      line_ = 1;
    } else if (space) {
      text_ += ' ';
      ++line_;
    }
    text_.append(piece);
    line_ += piece.size();
  }

  // Appends `value` cut into pieces that fill each line (for base64, where folding is free).
  void add_broken(std::string_view value) {
    while (!value.empty()) {
      size_t room = line_ < width_ ? width_ - line_ : 0;
      if (room == 0) {
        text_ += "\r\n\t";
        line_ = 1;
        continue;
      }
      size_t n = std::min(room, value.size());
      text_.append(value.substr(0, n));
      line_ += n;
      value.remove_prefix(n);
    }
  }

  const std::string& text() const { return text_; }

 private:
  size_t width_;
  std::string text_;
  size_t line_ = 0;  // characters on the current line
};

std::string canon_tag(const DkimSignerOptions& o) {
  return "c=" + std::string(dkim_canon_name(o.header_canon)) + "/" +
         std::string(dkim_canon_name(o.body_canon)) + ";";
}

// i= must be in d= or a subdomain of it (RFC 6376 §3.5).
bool identity_in_domain(std::string_view identity, std::string_view domain) {
  size_t at = identity.rfind('@');
  if (at == std::string_view::npos) {
    return false;
  }
  std::string_view idomain = identity.substr(at + 1);
  if (idomain.size() < domain.size() ||
      !dkim_name_equals(idomain.substr(idomain.size() - domain.size()), domain)) {
    return false;
  }
  return idomain.size() == domain.size() || idomain[idomain.size() - domain.size() - 1] == '.';
}

}  // namespace

DkimSigner::DkimSigner(std::vector<DkimSignerKey> keys, DkimSignerOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

Result<std::string> DkimSigner::sign_one(DkimSignerKey& key,
                                         const std::vector<DkimHeaderField>& fields,
                                         const std::vector<std::string>& signed_names,
                                         const Sha256::Digest& body_hash, uint64_t now_unix) {
  DkimAlgorithm algorithm =
      key.key.type() == KeyType::kRsa ? DkimAlgorithm::kRsaSha256 : DkimAlgorithm::kEd25519Sha256;
  FieldWriter w("DKIM-Signature", options_.line_width);
  w.add("v=1;");
  w.add("a=" + std::string(dkim_algorithm_name(algorithm)) + ";");
  w.add(canon_tag(options_));
  w.add("d=" + key.domain + ";");
  w.add("s=" + key.selector + ";");
  if (!key.identity.empty()) {
    if (!identity_in_domain(key.identity, key.domain)) {
      return Status::InvalidArgument("identity " + key.identity + " is not within " + key.domain);
    }
    w.add("i=" + key.identity + ";");
  }
  w.add("t=" + std::to_string(now_unix) + ";");
  if (options_.expire_after_s) {
    w.add("x=" + std::to_string(now_unix + *options_.expire_after_s) + ";");
  }
  for (size_t i = 0; i < signed_names.size(); ++i) {
    std::string piece =
        (i == 0 ? "h=" : "") + signed_names[i] + (i + 1 == signed_names.size() ? ";" : ":");
    w.add(piece, i == 0);
  }
  w.add("bh=" +
        base64_encode(
            std::string_view(reinterpret_cast<const char*>(body_hash.data()), body_hash.size())) +
        ";");
  w.add("b=");
  Sha256 hash;
  dkim_hash_headers(hash, fields, signed_names, options_.header_canon, w.text());
  Result<std::string> signature = key.key.sign(hash.finish());
  if (!signature.ok()) {
    return signature.status();
  }
  w.add_broken(base64_encode(*signature));
  return w.text() + "\r\n";
}

Result<std::vector<std::string>> DkimSigner::sign(std::string_view header_block,
                                                  const Sha256::Digest& body_hash,
                                                  uint64_t now_unix) {
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(header_block);
  if (!fields.ok()) {
    return fields.status();
  }
  bool has_from = false;
  for (const DkimHeaderField& field : *fields) {
    has_from = has_from || dkim_name_equals(field.name, "from");
  }
  if (!has_from) {
    return Status::InvalidArgument("the message has no From field to sign");
  }
  std::vector<std::string> signed_names = dkim_headers_to_sign(*fields, options_.selection);
  std::vector<std::string> out;
  for (DkimSignerKey& key : keys_) {
    Result<std::string> field = sign_one(key, *fields, signed_names, body_hash, now_unix);
    if (!field.ok()) {
      return field.status();
    }
    out.push_back(std::move(*field));
  }
  return out;
}

Result<std::vector<std::string>> DkimSigner::sign_message(std::string_view message,
                                                          uint64_t now_unix) {
  DkimMessageParts parts = split_dkim_message(message);
  DkimBodyHasher hasher(options_.body_canon);
  hasher.update(parts.body);
  return sign(parts.header_block, hasher.finish(), now_unix);
}

}  // namespace rm
