// DkimVerifier: checks every DKIM-Signature of a message (RFC 6376 §6, RFC 8463), sans I/O.
// It says which key records it needs; the caller looks them up and hands back the TXT
// strings or the DNS failure; then it gives one result per signature, ready for
// Authentication-Results (RFC 8601).
//
//   DkimVerifier v(header_block, now_unix);
//   v.update_body(body);  v.finish_body();          // in chunks, as the body arrives
//   for (const std::string& name : v.key_queries()) {
//     v.provide_key(name, txt_records_of(name));     // or provide_key_error(name, ...)
//   }
//   for (const DkimResult& r : v.results()) { add_header(r.authentication_results()); }
//
// Untrusted input: yes — the whole message and the TXT records. Limits: at most
// DkimVerifyOptions::signatures_max signatures are evaluated (the topmost ones), the header
// block limits of header_canon.h, the tag-list and key limits, at most kDkimTxtRecordsMax
// records per answer.
// Thread-safety: an object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/sha256.h"
#include "proto/dkim/body_canon.h"
#include "proto/dkim/header_canon.h"
#include "proto/dkim/signature.h"

namespace rm {

inline constexpr size_t kDkimTxtRecordsMax = 16;
inline constexpr size_t kDkimHeaderBChars = 8;  // header.b: this many characters of b=

struct DkimVerifyOptions {
  size_t signatures_max = 10;  // more than this many DKIM-Signature fields: the rest ignored
  int rsa_bits_min = 1024;     // shorter RSA keys give "policy" (RFC 8301)
};

enum class DkimStatus : uint8_t { kPass, kFail, kNeutral, kPolicy, kTempError, kPermError };
std::string_view dkim_status_name(DkimStatus status);  // "pass", "fail", ... (RFC 8601)

struct DkimResult {
  DkimStatus status = DkimStatus::kNeutral;
  std::string reason;    // why, when not pass
  std::string domain;    // d= (empty when the signature could not be read)
  std::string selector;  // s=
  std::string identity;  // i=
  std::optional<DkimAlgorithm> algorithm;
  std::string header_b;  // the first kDkimHeaderBChars characters of b=
  bool testing = false;  // the key record says t=y

  // "dkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh", with reason="..."
  // after the result when there is one.
  std::string authentication_results() const;
};

enum class DkimDnsError : uint8_t {
  kNoRecord,   // NXDOMAIN or no TXT record: permerror
  kTemporary,  // SERVFAIL, timeout: temperror
};

class DkimVerifier {
 public:
  // Reads the header block here (header hashes are computed at once: it need not outlive
  // the call); `now_unix` is checked against x=.
  DkimVerifier(std::string_view header_block, uint64_t now_unix, DkimVerifyOptions options = {});

  // The body, in chunks, then finish_body() once. Each body hash the signatures need (per
  // canonicalization and l=) is computed in the one pass.
  void update_body(std::string_view chunk);
  void finish_body();

  // The distinct TXT names ("sel._domainkey.example.com") that have not been answered yet.
  std::vector<std::string> key_queries() const;
  // The TXT records at `name`, each the concatenation of its character strings.
  void provide_key(std::string_view name, const std::vector<std::string>& txt_records);
  void provide_key_error(std::string_view name, DkimDnsError error);

  // True when the body is finished and every key query has its answer.
  bool done() const;
  // One result per evaluated signature, top to bottom. Before done(), what is missing gives
  // temperror.
  std::vector<DkimResult> results() const;
  // How many DKIM-Signature fields there were beyond signatures_max.
  size_t ignored_signatures() const { return ignored_; }

 private:
  struct BodyHash {
    DkimCanon canon;
    std::optional<uint64_t> length;
    DkimBodyHasher hasher;
    Sha256::Digest digest{};
    uint64_t canonical_length = 0;
  };
  struct Entry {
    DkimResult result;
    bool decided = false;  // result is final (e.g. a permerror found early)
    std::optional<DkimSignature> signature;
    Sha256::Digest header_hash{};
    size_t body_index = 0;
    bool key_answered = false;
    bool signature_ok = false;
  };

  void add_signature(const std::vector<DkimHeaderField>& fields, const DkimHeaderField& field);
  void apply_key(Entry& entry, const std::vector<std::string>& txt_records) const;
  DkimResult final_result(const Entry& entry) const;

  DkimVerifyOptions options_;
  uint64_t now_unix_;
  std::vector<Entry> entries_;
  std::vector<BodyHash> bodies_;
  bool body_finished_ = false;
  size_t ignored_ = 0;
};

}  // namespace rm
