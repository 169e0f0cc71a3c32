#include "proto/dkim/verifier.h"

#include "core/crypto/signing_key.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/tag_list.h"

namespace rm {
namespace {

std::string lower_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// A reason= value: a quoted string with the characters that would need escaping dropped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 120)) {
    auto u = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && u >= 0x20 && u < 0x7f) {
      out += c;
    }
  }
  return out + "\"";
}

// What can still be told about a signature that does not parse, for the result.
void describe_unparsed(std::string_view value, DkimResult& result) {
  Result<DkimTagList> tags = parse_dkim_tag_list(value);
  if (!tags.ok()) {
    return;
  }
  auto get = [&](std::string_view name) -> std::string {
    const std::string_view* v = tags->find(name);
    return v != nullptr ? dkim_strip_fws(*v).substr(0, kDkimDomainBytesMax) : std::string();
  };
  result.domain = get("d");
  result.selector = get("s");
  result.header_b = get("b").substr(0, kDkimHeaderBChars);
}

bool identity_is_exactly_domain(const DkimSignature& sig) {
  size_t at = sig.identity.rfind('@');
  return lower_name(std::string_view(sig.identity).substr(at + 1)) == sig.domain;
}

}  // namespace

std::string_view dkim_status_name(DkimStatus status) {
  switch (status) {
    case DkimStatus::kPass:
      return "pass";
    case DkimStatus::kFail:
      return "fail";
    case DkimStatus::kNeutral:
      return "neutral";
    case DkimStatus::kPolicy:
      return "policy";
    case DkimStatus::kTempError:
      return "temperror";
    case DkimStatus::kPermError:
      return "permerror";
  }
  return "permerror";
}

std::string DkimResult::authentication_results() const {
  std::string out = "dkim=" + std::string(dkim_status_name(status));
  if (!reason.empty()) {
    out += " reason=" + quoted(reason);
  }
  if (!domain.empty()) {
    out += " header.d=" + domain;
  }
  if (!selector.empty()) {
    out += " header.s=" + selector;
  }
  if (!header_b.empty()) {
    out += " header.b=" + header_b;
  }
  return out;
}

DkimVerifier::DkimVerifier(std::string_view header_block, uint64_t now_unix,
                           DkimVerifyOptions options)
    : options_(options), now_unix_(now_unix) {
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(header_block);
  if (!fields.ok()) {
    Entry entry;
    entry.decided = true;
    entry.result.status = DkimStatus::kPermError;
    entry.result.reason = std::string(fields.status().message());
    entries_.push_back(std::move(entry));
    return;
  }
  for (const DkimHeaderField& field : *fields) {
    if (!dkim_name_equals(field.name, "dkim-signature")) {
      continue;
    }
    if (entries_.size() == options_.signatures_max) {
      ++ignored_;
      continue;
    }
    add_signature(*fields, field);
  }
}

void DkimVerifier::add_signature(const std::vector<DkimHeaderField>& fields,
                                 const DkimHeaderField& field) {
  Entry entry;
  Result<DkimSignature> parsed = parse_dkim_signature(field.value());
  if (!parsed.ok()) {
    entry.decided = true;
    entry.result.status = DkimStatus::kPermError;
    entry.result.reason = std::string(parsed.status().message());
    describe_unparsed(field.value(), entry.result);
    entries_.push_back(std::move(entry));
    return;
  }
  const DkimSignature& sig = *parsed;
  entry.result.domain = sig.domain;
  entry.result.selector = sig.selector;
  entry.result.identity = sig.identity;
  entry.result.algorithm = sig.algorithm;
  entry.result.header_b = sig.signature_b64.substr(0, kDkimHeaderBChars);
  if (sig.expiration && now_unix_ > *sig.expiration) {
    entry.decided = true;
    entry.result.status = DkimStatus::kPermError;
    entry.result.reason = "signature expired";
    entries_.push_back(std::move(entry));
    return;
  }
  Sha256 hash;
  dkim_hash_headers(hash, fields, sig.signed_headers, sig.header_canon,
                    dkim_remove_b_value(field.raw));
  entry.header_hash = hash.finish();
  // Signatures with the same body canonicalization and l= share one body hash.
  size_t index = 0;
  while (index < bodies_.size() &&
         (bodies_[index].canon != sig.body_canon || bodies_[index].length != sig.body_length)) {
    ++index;
  }
  if (index == bodies_.size()) {
    bodies_.push_back(BodyHash{sig.body_canon,
                               sig.body_length,
                               DkimBodyHasher(sig.body_canon, sig.body_length.value_or(UINT64_MAX)),
                               {},
                               0});
  }
  entry.body_index = index;
  entry.signature = std::move(*parsed);
  entries_.push_back(std::move(entry));
}

void DkimVerifier::update_body(std::string_view chunk) {
  RM_ASSERT(!body_finished_);
  for (BodyHash& body : bodies_) {
    body.hasher.update(chunk);
  }
}

void DkimVerifier::finish_body() {
  RM_ASSERT(!body_finished_);
  for (BodyHash& body : bodies_) {
    body.digest = body.hasher.finish();
    body.canonical_length = body.hasher.canonical_length();
  }
  body_finished_ = true;
}

std::vector<std::string> DkimVerifier::key_queries() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) {
    if (entry.decided || entry.key_answered) {
      continue;
    }
    std::string name = entry.signature->key_query_name();
    bool seen = false;
    for (const std::string& n : names) {
      seen = seen || n == name;
    }
    if (!seen) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

void DkimVerifier::provide_key(std::string_view name, const std::vector<std::string>& txt_records) {
  std::string wanted = lower_name(name);
  for (Entry& entry : entries_) {
    if (!entry.decided && !entry.key_answered && entry.signature->key_query_name() == wanted) {
      entry.key_answered = true;
      apply_key(entry, txt_records);
    }
  }
}

void DkimVerifier::provide_key_error(std::string_view name, DkimDnsError error) {
  std::string wanted = lower_name(name);
  for (Entry& entry : entries_) {
    if (!entry.decided && !entry.key_answered && entry.signature->key_query_name() == wanted) {
      entry.key_answered = true;
      entry.decided = true;
      bool temporary = error == DkimDnsError::kTemporary;
      entry.result.status = temporary ? DkimStatus::kTempError : DkimStatus::kPermError;
      entry.result.reason = temporary ? "key lookup failed temporarily" : "no key record";
    }
  }
}

// Checks the key record against the signature and, when it fits, the signature itself.
// Any problem decides the entry's result; otherwise signature_ok holds the verdict.
void DkimVerifier::apply_key(Entry& entry, const std::vector<std::string>& txt_records) const {
  auto decide = [&entry](DkimStatus status, std::string reason) {
    entry.decided = true;
    entry.result.status = status;
    entry.result.reason = std::move(reason);
  };
  const DkimSignature& sig = *entry.signature;
  Result<DkimKeyRecord> record = Status::InvalidArgument("no key record");
  for (size_t i = 0; i < txt_records.size() && i < kDkimTxtRecordsMax; ++i) {
    record = parse_dkim_key_record(txt_records[i]);
    if (record.ok()) {
      break;
    }
  }
  if (!record.ok()) {
    return decide(DkimStatus::kPermError, "key record: " + std::string(record.status().message()));
  }
  entry.result.testing = record->testing;
  if (record->revoked()) {
    return decide(DkimStatus::kPermError, "key revoked");
  }
  if (record->type != dkim_key_type(sig.algorithm)) {
    return decide(DkimStatus::kPermError, "key type does not match a=");
  }
  if (!record->allows_sha256 || !record->for_email) {
    return decide(DkimStatus::kPermError, "key record does not allow this use (h= or s=)");
  }
  if (record->strict_identity && !identity_is_exactly_domain(sig)) {
    return decide(DkimStatus::kPermError, "key has t=s and i= is a subdomain of d=");
  }
  Result<VerifyKey> key = VerifyKey::from_der(record->type, record->public_key);
  if (!key.ok()) {
    return decide(DkimStatus::kPermError, "key record: " + std::string(key.status().message()));
  }
  if (key->type() == KeyType::kRsa && key->bits() < options_.rsa_bits_min) {
    return decide(DkimStatus::kPolicy,
                  "RSA key of " + std::to_string(key->bits()) + " bits is too short");
  }
  entry.signature_ok = key->verify(entry.header_hash, sig.signature);
}

DkimResult DkimVerifier::final_result(const Entry& entry) const {
  DkimResult result = entry.result;
  auto set = [&result](DkimStatus status, std::string reason) {
    result.status = status;
    result.reason = std::move(reason);
    return result;
  };
  if (entry.decided) {
    return result;
  }
  if (!entry.key_answered) {
    return set(DkimStatus::kTempError, "key not retrieved");
  }
  if (!body_finished_) {
    return set(DkimStatus::kTempError, "body not hashed");
  }
  const BodyHash& body = bodies_[entry.body_index];
  const DkimSignature& sig = *entry.signature;
  if (sig.body_length && *sig.body_length > body.canonical_length) {
    return set(DkimStatus::kPermError, "l= is longer than the body");
  }
  if (std::string_view(reinterpret_cast<const char*>(body.digest.data()), body.digest.size()) !=
      sig.body_hash) {
    return set(DkimStatus::kFail, "body hash did not verify");
  }
  if (!entry.signature_ok) {
    return set(DkimStatus::kFail, "signature did not verify");
  }
  return set(DkimStatus::kPass, "");
}

bool DkimVerifier::done() const {
  return body_finished_ && key_queries().empty();
}

std::vector<DkimResult> DkimVerifier::results() const {
  std::vector<DkimResult> out;
  out.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    out.push_back(final_result(entry));
  }
  return out;
}

}  // namespace rm
