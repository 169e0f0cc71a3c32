#include "proto/dmarc/alignment.h"

#include "proto/dmarc/domain_name.h"

namespace rm::dmarc {

bool aligned(const PublicSuffixList& psl, std::string_view authenticated_domain,
             std::string_view from_domain, AlignmentMode mode) {
  Result<std::string> a = normalize_domain(authenticated_domain);
  Result<std::string> f = normalize_domain(from_domain);
  if (!a.ok() || !f.ok()) {
    return false;
  }
  if (mode == AlignmentMode::kStrict) {
    return *a == *f;
  }
  Result<std::string> org_a = psl.organizational_domain(*a);
  Result<std::string> org_f = psl.organizational_domain(*f);
  return org_a.ok() && org_f.ok() && *org_a == *org_f;
}

}  // namespace rm::dmarc
