// Fuzzes the MIME parser and everything IMAP builds on it: the tree's invariants, ENVELOPE,
// BODYSTRUCTURE, sections, transfer decoding, SEARCH text, decoded header values, the tree
// codec (round trip, and the raw input as a corrupt encoding) and the agreement of the
// SIMD scanners with the portable one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "proto/mime/encoded_word.h"
#include "proto/mime/header.h"
#include "proto/mime/imap_format.h"
#include "proto/mime/mime_tree.h"
#include "proto/mime/scan.h"
#include "proto/mime/section.h"
#include "proto/mime/tree_codec.h"

namespace {

using rm::mime::MimePart;
using rm::mime::MimeTree;

void check_scanners(std::string_view in) {
  const rm::mime::MimeScanner& ref = rm::mime::mime_scanner(rm::mime::MimeScanImpl::kPortable);
  for (auto impl : {rm::mime::MimeScanImpl::kSse2, rm::mime::MimeScanImpl::kAvx2}) {
    if (!rm::mime::mime_scan_supported(impl)) {
      continue;
    }
    const rm::mime::MimeScanner& s = rm::mime::mime_scanner(impl);
    RM_ASSERT(s.find_lf(in.data(), in.size()) == ref.find_lf(in.data(), in.size()));
    RM_ASSERT(s.find_dash_line(in.data(), in.size()) == ref.find_dash_line(in.data(), in.size()));
    RM_ASSERT(s.count_lf(in.data(), in.size()) == ref.count_lf(in.data(), in.size()));
  }
}

void check_tree(const MimeTree& t, std::string_view msg, uint32_t parts_max) {
  RM_ASSERT(!t.parts.empty() && t.parts.size() <= (parts_max == 0 ? 1 : parts_max));
  for (size_t i = 0; i < t.parts.size(); ++i) {
    const MimePart& p = t.parts[i];
    RM_ASSERT(p.body_offset == p.header_offset + p.header_size);
    RM_ASSERT(p.body_offset + p.body_size <= msg.size());
    RM_ASSERT(p.depth <= rm::mime::kMimeDepthHardMax);
    for (uint32_t c : p.children) {
      RM_ASSERT(c > i && c < t.parts.size() && t.parts[c].parent == i);
      RM_ASSERT(t.parts[c].header_offset >= p.body_offset);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  const std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  check_scanners(msg);

  rm::mime::MimeLimits limits;
  if (flags & 1) {
    limits.depth_max = 3;
    limits.parts_max = 8;
    limits.header_bytes_max = 64;
    limits.header_fields_max = 4;
    limits.params_max = 2;
    limits.boundary_bytes_max = 4;
  }
  rm::Result<MimeTree> tree = rm::mime::parse_mime(msg, limits);
  RM_ASSERT(tree.ok());
  check_tree(*tree, msg, limits.parts_max);

  (void)rm::mime::imap_bodystructure(*tree, msg, (flags & 2) != 0);
  for (size_t i = 0; i < tree->parts.size(); ++i) {
    const MimePart& p = tree->parts[i];
    if (i == 0 || p.parent == 0 || tree->parts[p.parent].kind == rm::mime::MimePartKind::kMessage) {
      (void)rm::mime::imap_envelope(msg.substr(p.header_offset, p.header_size));
    }
    (void)rm::mime::decode_part_body(*tree, msg, static_cast<uint32_t>(i));
  }
  (void)rm::mime::body_text_utf8(*tree, msg);

  // Sections: a path made of the flag bits, every kind.
  rm::mime::MimeSection section;
  section.part = {static_cast<uint32_t>((flags >> 2) & 3), static_cast<uint32_t>(flags >> 4)};
  section.part.resize((flags >> 6) & 3);
  section.fields = {"From", "Subject"};
  using Kind = rm::mime::MimeSection::Kind;
  for (Kind k : {Kind::kAll, Kind::kHeader, Kind::kHeaderFields, Kind::kHeaderFieldsNot,
                 Kind::kText, Kind::kMime}) {
    section.kind = k;
    (void)rm::mime::extract_section(*tree, msg, section);
  }

  rm::mime::HeaderFieldReader reader(msg.substr(0, tree->parts[0].header_size));
  rm::mime::HeaderField f;
  for (int n = 0; n < 50 && reader.next(f); ++n) {
    (void)rm::mime::decode_header_value(f.raw_value);
  }

  rm::Result<MimeTree> back = rm::mime::decode_mime_tree(rm::mime::encode_mime_tree(*tree));
  RM_ASSERT(back.ok() && *back == *tree);
  rm::Result<MimeTree> junk = rm::mime::decode_mime_tree(msg);
  if (junk.ok()) {
    (void)rm::mime::imap_bodystructure(*junk, msg, true);
    (void)rm::mime::extract_section(*junk, msg, section);
    (void)rm::mime::body_text_utf8(*junk, msg);
  }
  return 0;
}
