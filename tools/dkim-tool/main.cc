// ringmail-dkim: DKIM from the command line, over the same code the server uses. For
// operators (make a key, see what a message's signatures say) and for interoperability tests.
//
//   ringmail-dkim sign --domain D --selector S --key FILE [--algorithm rsa-sha256|ed25519-sha256]
//                      [--canon relaxed/relaxed] [--identity I] [--time UNIX] < message
//                      (prints the message with its DKIM-Signature on top)
//   ringmail-dkim verify [--txt NAME=RECORD ...] [--now UNIX] < message
//                      (one Authentication-Results entry per signature; exit 0 when all pass)
//   ringmail-dkim keygen [--ed25519] [--bits N]   (the private key PEM, then the TXT record)
//
// The message may have LF or CRLF line ends; it is handled (and printed) with CRLF. verify
// does no DNS: a key name not given with --txt is treated as not existing.
// Exit codes: 0 success (verify: every signature passed), 1 verify found a signature that did
// not pass or none at all, 2 usage or input error.
// Trust: command-line arguments and key files come from the operator; the message does not.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.h"
#include "core/crypto/signing_key.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/signer.h"
#include "proto/dkim/verifier.h"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr size_t kMessageBytesMax = 64 * 1024 * 1024;

int usage(std::string_view why) {
  std::cerr << "ringmail-dkim: " << why << "\n"
            << "usage: ringmail-dkim sign --domain D --selector S --key FILE [--algorithm A] "
               "[--canon H/B] [--identity I] "
               "[--time T] < message\n"
            << "       ringmail-dkim verify [--txt NAME=RECORD ...] [--now T] < message\n"
            << "       ringmail-dkim keygen [--ed25519] [--bits N]\n";
  return kExitUsage;
}

// Reads stdin and makes every line end CRLF.
bool read_message(std::string& out) {
  std::string raw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (raw.size() > kMessageBytesMax) {
    return false;
  }
  out.reserve(raw.size() + raw.size() / 32);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
      out += '\r';
    }
    out += raw[i];
  }
  return true;
}

// "--name value" pairs; flags without a value are given as "".
struct Args {
  std::multimap<std::string, std::string> values;
  std::string get(const std::string& name, std::string fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  bool has(const std::string& name) const { return values.count(name) != 0; }
};

bool parse_args(int argc, char** argv, const std::vector<std::string>& flags, Args& args,
                std::string& error) {
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0) {
      error = "unexpected argument " + name;
      return false;
    }
    bool is_flag = false;
    for (const std::string& f : flags) {
      is_flag = is_flag || f == name;
    }
    if (is_flag) {
      args.values.emplace(name, "");
    } else if (i + 1 < argc) {
      args.values.emplace(name, argv[++i]);
    } else {
      error = name + " needs a value";
      return false;
    }
  }
  return true;
}

std::optional<uint64_t> parse_time(const Args& args, const std::string& name) {
  if (!args.has(name)) {
    return static_cast<uint64_t>(rm::unix_ms() / 1000);
  }
  return rm::dkim_parse_number(args.get(name), 12);
}

bool parse_canon(std::string_view text, rm::DkimSignerOptions& options) {
  auto one = [](std::string_view name, rm::DkimCanon& out) {
    if (name == "simple" || name == "relaxed") {
      out = name == "simple" ? rm::DkimCanon::kSimple : rm::DkimCanon::kRelaxed;
      return true;
    }
    return false;
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return one(text, options.header_canon) && one("simple", options.body_canon);
  }
  return one(text.substr(0, slash), options.header_canon) &&
         one(text.substr(slash + 1), options.body_canon);
}

int sign(const Args& args) {
  std::string domain = args.get("--domain");
  std::string selector = args.get("--selector");
  std::string key_file = args.get("--key");
  if (domain.empty() || selector.empty() || key_file.empty()) {
    return usage("sign needs --domain, --selector and --key");
  }
  std::ifstream in(key_file, std::ios::binary);
  if (!in) {
    return usage("cannot read " + key_file);
  }
  std::stringstream text;
  text << in.rdbuf();
  rm::Result<rm::SigningKey> key = rm::SigningKey::load(text.str());
  if (!key.ok()) {
    return usage(key_file + ": " + key.status().to_string());
  }
  if (args.has("--algorithm")) {
    std::optional<rm::DkimAlgorithm> algorithm =
        rm::dkim_algorithm_from_name(args.get("--algorithm"));
    if (!algorithm || rm::dkim_key_type(*algorithm) != key->type()) {
      return usage("--algorithm does not match the key");
    }
  }
  rm::DkimSignerOptions options;
  if (args.has("--canon") && !parse_canon(args.get("--canon"), options)) {
    return usage("--canon is simple|relaxed[/simple|relaxed]");
  }
  std::optional<uint64_t> now = parse_time(args, "--time");
  if (!now) {
    return usage("--time is a Unix time");
  }
  std::string message;
  if (!read_message(message)) {
    return usage("message too long");
  }
  std::vector<rm::DkimSignerKey> keys;
  keys.push_back({domain, selector, std::move(*key), args.get("--identity")});
  rm::DkimSigner signer(std::move(keys), options);
  rm::Result<std::vector<std::string>> fields = signer.sign_message(message, *now);
  if (!fields.ok()) {
    return usage(fields.status().to_string());
  }
  for (const std::string& field : *fields) {
    std::cout << field;
  }
  std::cout << message << std::flush;
  return 0;
}

int verify(const Args& args) {
  std::map<std::string, std::vector<std::string>> records;
  for (const auto& [name, value] : args.values) {
    if (name == "--txt") {
      size_t eq = value.find('=');
      if (eq == std::string::npos) {
        return usage("--txt takes NAME=RECORD");
      }
      std::string key_name = value.substr(0, eq);
      while (!key_name.empty() && key_name.back() == '.') {
        key_name.pop_back();
      }
      for (char& c : key_name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      records[key_name].push_back(value.substr(eq + 1));
    }
  }
  std::optional<uint64_t> now = parse_time(args, "--now");
  if (!now) {
    return usage("--now is a Unix time");
  }
  std::string message;
  if (!read_message(message)) {
    return usage("message too long");
  }
  rm::DkimMessageParts parts = rm::split_dkim_message(message);
  rm::DkimVerifier verifier(parts.header_block, *now);
  verifier.update_body(parts.body);
  verifier.finish_body();
  for (const std::string& name : verifier.key_queries()) {
    auto it = records.find(name);
    if (it == records.end()) {
      verifier.provide_key_error(name, rm::DkimDnsError::kNoRecord);
    } else {
      verifier.provide_key(name, it->second);
    }
  }
  std::vector<rm::DkimResult> results = verifier.results();
  bool all_pass = !results.empty();
  for (const rm::DkimResult& result : results) {
    std::cout << result.authentication_results() << "\n";
    all_pass = all_pass && result.status == rm::DkimStatus::kPass;
  }
  if (results.empty()) {
    std::cout << "dkim=none\n";
  }
  return all_pass ? 0 : kExitFailed;
}

int keygen(const Args& args) {
  rm::KeyType type = args.has("--ed25519") ? rm::KeyType::kEd25519 : rm::KeyType::kRsa;
  int bits = rm::SigningKey::kRsaBitsDefault;
  if (args.has("--bits")) {
    std::optional<uint64_t> n = rm::dkim_parse_number(args.get("--bits"), 5);
    if (!n) {
      return usage("--bits is a number");
    }
    bits = static_cast<int>(*n);
  }
  rm::Result<rm::SigningKey> key = rm::SigningKey::generate(type, bits);
  if (!key.ok()) {
    return usage(key.status().to_string());
  }
  std::cout << key->private_pem() << rm::format_dkim_key_record(type, key->public_der()) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage("no command");
  }
  std::string command = argv[1];
  Args args;
  std::string error;
  if (!parse_args(argc, argv, {"--ed25519"}, args, error)) {
    return usage(error);
  }
  if (command == "sign") {
    return sign(args);
  }
  if (command == "verify") {
    return verify(args);
  }
  if (command == "keygen") {
    return keygen(args);
  }
  return usage("unknown command " + command);
}
