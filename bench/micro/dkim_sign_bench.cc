// rm_dkim_sign_bench: DKIM signing and verification of whole messages, messages per CPU second.
//
//   rm_dkim_sign_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=3] ...
//
// Messages of 4 KiB and 100 KiB (a 7-field header and mail-like CRLF text), signed with one
// key (relaxed/relaxed, the default header list, From oversigned) by DkimSigner::sign_message
// and verified by DkimVerifier (header hash, body hash, key record parse, signature check;
// the key record is handed over as if from DNS). RSA keys are 2048 bits.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/crypto/signing_key.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/signer.h"
#include "proto/dkim/verifier.h"

namespace {

constexpr uint64_t kNow = 1796000000;

std::string make_message(size_t size) {
  std::string m =
      "From: Sam Sender <sam@example.com>\r\nTo: Rita <rita@example.org>\r\n"
      "Subject: a benchmark message of some length\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
      "Message-ID: <bench-1@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  std::mt19937 rng(6376);
  std::uniform_int_distribution<int> word_len(1, 10);
  std::uniform_int_distribution<int> letter('a', 'z');
  while (m.size() < size) {
    std::string line;
    while (line.size() < 70) {
      for (int i = word_len(rng); i > 0; --i)
        line += static_cast<char>(letter(rng));
      line += ' ';
    }
    m += line + "\r\n";
  }
  return m;
}

rm::DkimSignerKey signer_key(rm::KeyType type) {
  rm::Result<rm::SigningKey> key = rm::SigningKey::generate(type);
  if (!key.ok())
    std::abort();
  return rm::DkimSignerKey{"example.com", "s", std::move(key).value(), ""};
}

void BM_Sign(benchmark::State& state, rm::KeyType type) {
  const std::string message = make_message(static_cast<size_t>(state.range(0)));
  std::vector<rm::DkimSignerKey> keys;
  keys.push_back(signer_key(type));
  rm::DkimSigner signer(std::move(keys));
  for (auto _ : state) {
    rm::Result<std::vector<std::string>> fields = signer.sign_message(message, kNow);
    if (!fields.ok())
      state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * message.size()));
}

void BM_Verify(benchmark::State& state, rm::KeyType type) {
  std::string message = make_message(static_cast<size_t>(state.range(0)));
  std::vector<rm::DkimSignerKey> keys;
  keys.push_back(signer_key(type));
  const std::string record = rm::format_dkim_key_record(type, keys[0].key.public_der());
  rm::DkimSigner signer(std::move(keys));
  message = signer.sign_message(message, kNow).value()[0] + message;
  const rm::DkimMessageParts parts = rm::split_dkim_message(message);
  const std::vector<std::string> records = {record};
  for (auto _ : state) {
    rm::DkimVerifier verifier(parts.header_block, kNow);
    verifier.update_body(parts.body);
    verifier.finish_body();
    verifier.provide_key("s._domainkey.example.com", records);
    const std::vector<rm::DkimResult> results = verifier.results();
    if (results.size() != 1 || results[0].status != rm::DkimStatus::kPass) {
      state.SkipWithError("verify did not pass");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * message.size()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_Sign, rsa2048, rm::KeyType::kRsa)->Arg(4 << 10)->Arg(100 << 10);
BENCHMARK_CAPTURE(BM_Sign, ed25519, rm::KeyType::kEd25519)->Arg(4 << 10)->Arg(100 << 10);
BENCHMARK_CAPTURE(BM_Verify, rsa2048, rm::KeyType::kRsa)->Arg(4 << 10)->Arg(100 << 10);
BENCHMARK_CAPTURE(BM_Verify, ed25519, rm::KeyType::kEd25519)->Arg(4 << 10)->Arg(100 << 10);
