#include "core/config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "core/config/config_schema.h"

namespace rm {
namespace {

// Options has no operator==; the printed form covers every schema field, so equal text
// means equal options.
std::string printed(const Options& options) {
  return print_config(options);
}

std::string error_of(std::string_view json) {
  const Result<Options> result = parse_config(json);
  EXPECT_FALSE(result.ok()) << "accepted: " << json;
  if (result.ok()) {
    return "";
  }
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

// A file under the test temp dir, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view contents)
      : path_(::testing::TempDir() + "config_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter_++) + ".json") {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (f != nullptr) {
      std::fwrite(contents.data(), 1, contents.size(), f);
      std::fclose(f);
    }
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(ConfigTest, EmptyObjectGivesDefaults) {
  const Result<Options> result = parse_config("{}");
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(printed(*result), printed(Options{}));
  EXPECT_EQ(result->listeners.smtp.port, 2525u);
  EXPECT_EQ(result->runtime.ring_entries, 1024u);
  EXPECT_EQ(result->server.local_domains, std::vector<std::string>{"localhost"});
  EXPECT_EQ(result->log.level, "info");
}

TEST(ConfigTest, WhitespaceAroundEmptyObjectIsFine) {
  EXPECT_TRUE(parse_config(" \n{ }\n").ok());
}

TEST(ConfigTest, PartialConfigKeepsOtherDefaults) {
  const Result<Options> result = parse_config(R"({
    "listeners": {"smtp": {"port": 25, "address": "::"}, "pop3": {"enabled": false}},
    "runtime": {"shards": 4, "pin_threads": false},
    "server": {"hostname": "mx.example.org", "local_domains": ["example.org", "example.net"]},
    "log": {"level": "debug", "file": "/var/log/ringmail.log"}
  })");
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  const Options& o = *result;
  EXPECT_EQ(o.listeners.smtp.port, 25u);
  EXPECT_EQ(o.listeners.smtp.address, "::");
  EXPECT_TRUE(o.listeners.smtp.enabled);
  EXPECT_FALSE(o.listeners.pop3.enabled);
  EXPECT_EQ(o.listeners.pop3.port, 2110u);
  EXPECT_EQ(o.listeners.imap.port, 2143u);
  EXPECT_EQ(o.runtime.shards, 4u);
  EXPECT_FALSE(o.runtime.pin_threads);
  EXPECT_EQ(o.runtime.cq_entries, 16384u);
  EXPECT_EQ(o.server.hostname, "mx.example.org");
  EXPECT_EQ(o.server.local_domains, (std::vector<std::string>{"example.org", "example.net"}));
  EXPECT_EQ(o.log.level, "debug");
  EXPECT_EQ(o.log.file, "/var/log/ringmail.log");
  EXPECT_EQ(o.limits.connections_max, 20000u);
}

TEST(ConfigTest, SrsKeys) {
  const Options defaults;
  EXPECT_TRUE(defaults.srs.enabled);
  EXPECT_TRUE(defaults.srs.secrets.empty());  // DATA/srs.secret
  EXPECT_EQ(defaults.srs.domain, "");
  EXPECT_EQ(defaults.srs.max_age_days, 21u);
  const Result<Options> result = parse_config(
      R"({"srs": {"secrets": ["new", "old"], "domain": "fwd.example.org", "max_age_days": 30}})");
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->srs.secrets, (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(result->srs.domain, "fwd.example.org");
  EXPECT_EQ(result->srs.max_age_days, 30u);
  EXPECT_FALSE(parse_config(R"({"srs": {"secrets": [""]}})").ok());
  EXPECT_FALSE(parse_config(R"({"srs": {"domain": "a b"}})").ok());
  EXPECT_FALSE(parse_config(R"({"srs": {"max_age_days": 1024}})").ok());
  EXPECT_FALSE(parse_config(R"({"srs": {"max_age_days": 0}})").ok());
}

TEST(ConfigTest, InboundCheckKeys) {
  const Options defaults;
  EXPECT_TRUE(defaults.dkim.verify_inbound);
  EXPECT_TRUE(defaults.spf.verify_inbound);
  EXPECT_EQ(defaults.spf.fail, "mark");
  EXPECT_EQ(defaults.dmarc.reject, "reject");
  EXPECT_EQ(defaults.dmarc.quarantine, "quarantine");
  EXPECT_EQ(defaults.dmarc.quarantine_mailbox, "Junk");
  const Result<Options> result = parse_config(
      R"({"spf": {"fail": "reject", "check_helo": false}, "dmarc": {"reject": "quarantine",
          "quarantine": "mark", "unclear_from": "mark", "quarantine_mailbox": "Spam"}})");
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->spf.fail, "reject");
  EXPECT_FALSE(result->spf.check_helo);
  EXPECT_EQ(result->dmarc.reject, "quarantine");
  EXPECT_EQ(result->dmarc.quarantine, "mark");
  EXPECT_EQ(result->dmarc.unclear_from, "mark");
  EXPECT_EQ(result->dmarc.quarantine_mailbox, "Spam");
  const Result<Options> bad = parse_config(R"({"dmarc": {"quarantine": "reject"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be one of: quarantine, mark"), std::string::npos)
      << bad.status().to_string();
  EXPECT_FALSE(parse_config(R"({"spf": {"fail": "softfail"}})").ok());
  EXPECT_FALSE(parse_config(R"({"dmarc": {"quarantine_mailbox": ""}})").ok());
  EXPECT_FALSE(parse_config(R"({"dmarc": {"quarantine_mailbox": "Ju*nk"}})").ok());
}

TEST(ConfigTest, ListReplacesTheDefaultWhole) {
  const Result<Options> result = parse_config(R"({"server": {"local_domains": []}})");
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_TRUE(result->server.local_domains.empty());
  EXPECT_NE(print_config(*result).find("\"local_domains\": []"), std::string::npos);
}

TEST(ConfigTest, RangeBoundsAreInclusive) {
  EXPECT_TRUE(parse_config(R"({"listeners": {"smtp": {"port": 65535}}})").ok());
  EXPECT_TRUE(parse_config(R"({"listeners": {"smtp": {"port": 0}}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"shards": 256, "timer_tick_ms": 1000}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"recv_buffer_count": 32768}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"recv_buffer_count": 1}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"recv_buffer_size": 256}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"recv_buffer_size": 1048576}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"ring_entries": 32768, "cq_entries": 65536}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"ring_entries": 8, "cq_entries": 16}})").ok());
  EXPECT_TRUE(parse_config(R"({"runtime": {"cq_entries": 1048576}})").ok());
}

struct ErrorCase {
  const char* json;
  const char* message;
};

TEST(ConfigTest, ErrorsNameTheKeyAndTheReason) {
  const ErrorCase cases[] = {
      // Unknown keys, at every depth.
      {R"({"runtime": {"shardz": 1}})", "unknown key 'runtime.shardz'"},
      {R"({"listeners": {"smtp": {"portt": 1}}})", "unknown key 'listeners.smtp.portt'"},
      {R"({"listenerz": {}})", "unknown key 'listenerz'"},
      {R"({"listeners": {"lmtp": {}}})", "unknown key 'listeners.lmtp'"},
      {R"({"listeners": {"smtp.port": 1}})",
       "unknown key 'listeners.smtp.port' (a key never contains a dot; nest objects instead)"},
      {"{\"a\\u0001\\\"\": 1}", "unknown key 'a\\u0001\\\"'"},
      // Wrong JSON types.
      {R"({"listeners": 5})", "'listeners': expected an object, got integer"},
      {R"({"listeners": {"smtp": []}})", "'listeners.smtp': expected an object, got array"},
      {R"({"listeners": {"smtp": {"port": "25"}}})",
       "'listeners.smtp.port': expected an unsigned integer, got string"},
      {R"({"runtime": {"shards": 2.5}})",
       "'runtime.shards': expected an unsigned integer, got number"},
      {R"({"runtime": {"shards": null}})",
       "'runtime.shards': expected an unsigned integer, got null"},
      {R"({"runtime": {"pin_threads": 1}})",
       "'runtime.pin_threads': expected true or false, got integer"},
      {R"({"log": {"file": false}})", "'log.file': expected a string, got boolean"},
      {R"({"server": {"local_domains": "a.org"}})",
       "'server.local_domains': expected an array of strings, got string"},
      {R"({"server": {"local_domains": ["a.org", {}]}})",
       "'server.local_domains[1]': expected a string, got object"},
      // Ranges.
      {R"({"listeners": {"smtp": {"port": 70000}}})",
       "'listeners.smtp.port': 70000 is out of range (0..65535)"},
      {R"({"listeners": {"imaps": {"port": -1}}})",
       "'listeners.imaps.port': -1 is out of range (0..65535)"},
      {R"({"runtime": {"shards": 18446744073709551615}})",
       "'runtime.shards': 18446744073709551615 is out of range (0..256)"},
      {R"({"runtime": {"shards": 257}})", "'runtime.shards': 257 is out of range (0..256)"},
      {R"({"runtime": {"recv_buffer_count": 0}})",
       "'runtime.recv_buffer_count': 0 is out of range (1..32768)"},
      {R"({"runtime": {"recv_buffer_count": 65536}})",
       "'runtime.recv_buffer_count': 65536 is out of range (1..32768)"},
      {R"({"runtime": {"recv_buffer_count": 1000}})",
       "'runtime.recv_buffer_count': 1000 is not a power of two"},
      {R"({"runtime": {"recv_buffer_size": 255}})",
       "'runtime.recv_buffer_size': 255 is out of range (256..1048576)"},
      {R"({"runtime": {"recv_buffer_size": 1048577}})",
       "'runtime.recv_buffer_size': 1048577 is out of range (256..1048576)"},
      {R"({"runtime": {"ring_entries": 7}})",
       "'runtime.ring_entries': 7 is out of range (8..32768)"},
      {R"({"runtime": {"ring_entries": 32769}})",
       "'runtime.ring_entries': 32769 is out of range (8..32768)"},
      {R"({"runtime": {"cq_entries": 2047}})",
       "'runtime.cq_entries': 2047 is less than twice runtime.ring_entries (1024)"},
      {R"({"runtime": {"cq_entries": 1048577}})",
       "'runtime.cq_entries': 1048577 is out of range (16..1048576)"},
      {R"({"runtime": {"timer_tick_ms": 0}})",
       "'runtime.timer_tick_ms': 0 is out of range (1..1000)"},
      {R"({"runtime": {"timer_tick_ms": 1001}})",
       "'runtime.timer_tick_ms': 1001 is out of range (1..1000)"},
      {R"({"limits": {"connections_max": 0}})",
       "'limits.connections_max': 0 is out of range (1..1000000)"},
      // String values.
      {R"({"log": {"level": "loud"}})",
       "'log.level': unknown log level 'loud' (expected debug, info, warn or error)"},
      {R"({"listeners": {"submission": {"address": "localhost"}}})",
       "'listeners.submission.address': 'localhost' is not an IPv4 or IPv6 literal"},
      {R"({"listeners": {"pop3s": {"address": "1.2.3.4 "}}})",
       "'listeners.pop3s.address': '1.2.3.4 ' is not an IPv4 or IPv6 literal"},
      {R"({"listeners": {"smtp": {"address": "127.0.0.1\u0000x"}}})",
       "'listeners.smtp.address': must not contain control characters"},
      {R"({"server": {"hostname": ""}})", "'server.hostname': must not be empty"},
      {R"({"server": {"hostname": "mx example"}})",
       "'server.hostname': 'mx example' must be printable ASCII without spaces"},
      {R"({"server": {"hostname": "m\u00e9l.example"}})",
       "'server.hostname': 'm\xc3\xa9l.example' must be printable ASCII without spaces"},
      {R"({"server": {"local_domains": ["a.org", ""]}})",
       "'server.local_domains[1]': must not be empty"},
      {R"({"log": {"file": "a\nb"}})", "'log.file': must not contain control characters"},
      // Duplicates, at every depth.
      {R"({"runtime": {"shards": 1, "shards": 2}})", "duplicate key 'runtime.shards'"},
      {R"({"log": {}, "log": {}})", "duplicate key 'log'"},
      {R"({"listeners": {"smtp": {"port": 1, "enabled": true, "port": 1}}})",
       "duplicate key 'listeners.smtp.port'"},
      // The document itself.
      {"[]", "the top level must be an object, got array"},
      {"\"{}\"", "the top level must be an object, got string"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_EQ(error_of(c.json), c.message);
  }
}

TEST(ConfigTest, InvalidJsonIsReportedWithSimdjsonsReason) {
  for (const char* json : {"", "{", "{\"a\": }", "{} {}", "{\"a\": \"\xff\"}", "{'a': 1}"}) {
    SCOPED_TRACE(json);
    const std::string message = error_of(json);
    EXPECT_EQ(message.rfind("invalid JSON: ", 0), 0u) << message;
    EXPECT_GT(message.size(), std::string("invalid JSON: ").size());
  }
}

TEST(ConfigTest, PrintUsesTwoSpaceIndentInTableOrder) {
  const std::string text = print_config(Options{});
  EXPECT_EQ(text.rfind("{\n"
                       "  \"server\": {\n"
                       "    \"hostname\": \"localhost\",\n"
                       "    \"local_domains\": [\n"
                       "      \"localhost\"\n"
                       "    ]\n"
                       "  },\n"
                       "  \"listeners\": {\n"
                       "    \"smtp\": {\n"
                       "      \"enabled\": true,\n"
                       "      \"address\": \"127.0.0.1\",\n"
                       "      \"port\": 2525\n"
                       "    },\n",
                       0),
            0u)
      << text;
  const std::string tail =
      "  \"log\": {\n"
      "    \"level\": \"info\",\n"
      "    \"file\": \"\"\n"
      "  }\n"
      "}\n";
  ASSERT_GE(text.size(), tail.size());
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
}

TEST(ConfigTest, PrintEscapesStrings) {
  Options options;
  options.log.file = "a\"b\\c\x01\x1f\x7f\xc3\xa9";
  EXPECT_NE(print_config(options).find(R"("file": "a\"b\\c\u0001\u001f\u007f)"
                                       "\xc3\xa9\""),
            std::string::npos);
}

TEST(ConfigTest, RoundTripOfDefaultsIsIdentical) {
  const std::string first = print_config(Options{});
  const Result<Options> reparsed = parse_config(first);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().to_string();
  EXPECT_EQ(print_config(*reparsed), first);
}

TEST(ConfigTest, RoundTripOfModifiedConfigIsIdentical) {
  Options options;
  options.server.hostname = "mx1.example.org";
  options.server.local_domains = {"example.org", "example.net", "xn--mller-kva.example"};
  options.listeners.smtp = {false, "::", 25};
  options.listeners.imaps.address = "2001:db8::1";
  options.runtime.shards = 8;
  options.runtime.pin_threads = false;
  options.runtime.ring_entries = 4096;
  options.runtime.cq_entries = 65536;
  options.runtime.recv_buffer_count = 4096;
  options.limits.output_buffer_bytes_max = 1 << 20;
  options.log.level = "warn";
  options.log.file = "/var/log/ring \"mail\" \\ \xc3\xa9.log";

  const std::string first = print_config(options);
  const Result<Options> reparsed = parse_config(first);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().to_string() << "\n" << first;
  EXPECT_EQ(print_config(*reparsed), first);
  EXPECT_EQ(reparsed->log.file, options.log.file);
  EXPECT_EQ(reparsed->server.local_domains, options.server.local_domains);
  EXPECT_FALSE(reparsed->listeners.smtp.enabled);
  EXPECT_EQ(reparsed->listeners.smtp.address, "::");
  EXPECT_EQ(reparsed->runtime.cq_entries, 65536u);
}

// The table is the single source of truth, so check its shape: unique paths, and every
// key inside a section that is declared before it.
TEST(ConfigTest, SchemaIsWellFormed) {
  std::set<std::string_view> sections = {""};
  std::set<std::string_view> paths;
  for (const ConfigField& field : config_schema()) {
    SCOPED_TRACE(field.path);
    EXPECT_TRUE(paths.insert(field.path).second) << "duplicate path";
    const size_t dot = field.path.rfind('.');
    const std::string_view parent =
        dot == std::string_view::npos ? std::string_view() : field.path.substr(0, dot);
    EXPECT_TRUE(sections.count(parent)) << "section not declared before its keys";
    if (std::holds_alternative<SectionField>(field.spec)) {
      sections.insert(field.path);
    }
  }
}

// A JSON value that the schema accepts for `field` and that differs from its default, or
// "" when none of the candidates fits.
std::string non_default_value(const ConfigField& field) {
  const Options defaults;
  std::vector<std::string> candidates;
  if (const auto* b = std::get_if<BoolField>(&field.spec)) {
    candidates = {b->ref.cget(defaults) ? "false" : "true"};
  } else if (const auto* u = std::get_if<Uint32Field>(&field.spec)) {
    candidates = {std::to_string(u->min), std::to_string(u->max)};
  } else if (std::holds_alternative<StringField>(field.spec)) {
    candidates = {R"("::1")",      R"("mx.example.org")",        R"("debug")", R"("normalize")",
                  R"("required")", R"("relay.example.org:587")", R"("mark")",  R"("reject")"};
  } else if (std::holds_alternative<StringListField>(field.spec)) {
    candidates = {R"(["example.org"])", R"(["10.0.0.0/8"])",
                  R"(["example.org=relay.example.org:25"])"};
  }
  for (const std::string& value : candidates) {
    std::string json = "{";
    std::string_view rest = field.path;
    int depth = 0;
    for (size_t dot; (dot = rest.find('.')) != std::string_view::npos;
         rest.remove_prefix(dot + 1)) {
      json += "\"" + std::string(rest.substr(0, dot)) + "\": {";
      ++depth;
    }
    json += "\"" + std::string(rest) + "\": " + value +
            std::string(static_cast<size_t>(depth) + 1, '}');
    const Result<Options> result = parse_config(json);
    if (result.ok() && print_config(*result) != print_config(defaults)) {
      return json;
    }
  }
  return "";
}

// Every key in the table reaches a field of Options: setting it changes the printed
// config, and the change survives a round trip.
TEST(ConfigTest, EveryKeyCanBeSetAndRoundTrips) {
  for (const ConfigField& field : config_schema()) {
    if (std::holds_alternative<SectionField>(field.spec)) {
      continue;
    }
    SCOPED_TRACE(field.path);
    const std::string json = non_default_value(field);
    ASSERT_FALSE(json.empty()) << "no accepted non-default value";
    const std::string first = print_config(*parse_config(json));
    const Result<Options> reparsed = parse_config(first);
    ASSERT_TRUE(reparsed.ok()) << reparsed.status().to_string();
    EXPECT_EQ(print_config(*reparsed), first);
  }
}

TEST(ConfigTest, LoadConfigFileReadsAndParses) {
  const TempFile file(R"({"runtime": {"shards": 3}})");
  const Result<Options> result = load_config_file(file.path());
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->runtime.shards, 3u);
}

TEST(ConfigTest, LoadConfigFileMissingNamesTheFile) {
  const std::string path = ::testing::TempDir() + "config_test_does_not_exist.json";
  const Result<Options> result = load_config_file(path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_EQ(result.status().message(), "config " + path + ": No such file or directory");
}

TEST(ConfigTest, LoadConfigFileOnADirectoryFails) {
  const Result<Options> result = load_config_file(::testing::TempDir());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(::testing::TempDir()), std::string_view::npos);
}

TEST(ConfigTest, LoadConfigFilePrefixesParseErrorsWithTheFile) {
  const TempFile file(R"({"runtime": {"shardz": 3}})");
  const Result<Options> result = load_config_file(file.path());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "config " + file.path() + ": unknown key 'runtime.shardz'");
}

}  // namespace
}  // namespace rm
