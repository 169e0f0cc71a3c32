// A small Public Suffix List in the real file's format, for the DMARC tests.
#pragma once

#include <string_view>

namespace rm::dmarc::testing {

inline constexpr std::string_view kTestPsl = R"(// This Source Code Form is subject to ...
// ===BEGIN ICANN DOMAINS===

// com
com
net
org
uk
co.uk
// ck : https://en.wikipedia.org/wiki/.ck
*.ck
!www.ck
jp
kawasaki.jp
*.kawasaki.jp
!city.kawasaki.jp
cn
公司.cn
// ===END ICANN DOMAINS===
// ===BEGIN PRIVATE DOMAINS===
blogspot.com
github.io
  trailing.example   words after the rule are ignored
// ===END PRIVATE DOMAINS===
)";

}  // namespace rm::dmarc::testing
