// Fuzzes the DKIM parsers: the first byte picks the target and the rest is its input.
//   0: a tag list; 1: a DKIM-Signature value; 2: a key record, and its p= as a public key;
//   3: a whole message through DkimVerifier (header canonicalization, b= removal, selection),
//      every key query answered with the same record taken from the input's last line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "core/crypto/signing_key.h"
#include "proto/dkim/header_canon.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/signature.h"
#include "proto/dkim/tag_list.h"
#include "proto/dkim/verifier.h"

namespace {

void fuzz_tag_list(std::string_view input) {
  rm::Result<rm::DkimTagList> tags = rm::parse_dkim_tag_list(input);
  if (tags.ok()) {
    RM_ASSERT(tags->tags.size() <= rm::kDkimTagsMax);
    for (const rm::DkimTag& tag : tags->tags) {
      RM_ASSERT(!tag.name.empty() && tag.name.size() <= rm::kDkimTagNameBytesMax);
      RM_ASSERT(tags->find(tag.name) != nullptr);
    }
  }
}

void fuzz_signature(std::string_view input) {
  rm::Result<rm::DkimSignature> sig = rm::parse_dkim_signature(input);
  if (sig.ok()) {
    RM_ASSERT(sig->body_hash.size() == rm::Sha256::kDigestBytes);
    RM_ASSERT(!sig->signed_headers.empty() &&
              sig->signed_headers.size() <= rm::kDkimSignedHeadersMax);
    RM_ASSERT(!sig->domain.empty() && sig->identity.find('@') != std::string::npos);
    RM_ASSERT(!sig->timestamp || !sig->expiration || *sig->timestamp <= *sig->expiration);
  }
}

void fuzz_key_record(std::string_view input) {
  rm::Result<rm::DkimKeyRecord> key = rm::parse_dkim_key_record(input);
  if (key.ok() && !key->revoked()) {
    RM_ASSERT(key->public_key.size() <= rm::kDkimKeyBytesMax);
    rm::Result<rm::VerifyKey> pub = rm::VerifyKey::from_der(key->type, key->public_key);
    if (pub.ok()) {
      (void)pub->verify(rm::Sha256::hash(input), std::string_view(input).substr(0, 256));
    }
  }
}

void fuzz_message(std::string_view input) {
  size_t last = input.rfind('\n');
  std::string_view record =
      last == std::string_view::npos ? std::string_view() : input.substr(last + 1);
  std::string_view message = input.substr(0, last == std::string_view::npos ? input.size() : last);
  rm::DkimMessageParts parts = rm::split_dkim_message(message);
  rm::Result<std::vector<rm::DkimHeaderField>> fields =
      rm::split_dkim_header_fields(parts.header_block);
  if (fields.ok()) {
    std::string out;
    for (const rm::DkimHeaderField& field : *fields) {
      rm::dkim_canonicalize_header(rm::DkimCanon::kRelaxed, field.raw, out);
      RM_ASSERT(rm::dkim_remove_b_value(field.raw).size() <= field.raw.size());
    }
  }
  rm::DkimVerifier verifier(parts.header_block, 1700000000);
  verifier.update_body(parts.body);
  verifier.finish_body();
  for (const std::string& name : verifier.key_queries()) {
    verifier.provide_key(name, {std::string(record)});
  }
  RM_ASSERT(verifier.done());
  for (const rm::DkimResult& result : verifier.results()) {
    RM_ASSERT(!result.authentication_results().empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzz_tag_list(input);
      break;
    case 1:
      fuzz_signature(input);
      break;
    case 2:
      fuzz_key_record(input);
      break;
    default:
      fuzz_message(input);
      break;
  }
  return 0;
}
