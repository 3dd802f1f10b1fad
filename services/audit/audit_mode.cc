#include "services/audit/audit_mode.h"

#include "absl/strings/match.h"

namespace iam::audit {

iam::v1::AuditMode EffectiveAuditMode(absl::string_view name,
                                      iam::v1::AuditMode declared) {
  if (declared != iam::v1::AUDIT_MODE_UNSPECIFIED &&
      iam::v1::AuditMode_IsValid(declared)) {
    return declared;
  }
  const size_t dot = name.find('.');
  const size_t colon = name.find(':');
  if (dot == absl::string_view::npos) return iam::v1::AUDIT_MODE_ASYNC;
  const absl::string_view system = name.substr(0, dot);
  if (system == "burning" || system == "area" || system == "badge") {
    return iam::v1::AUDIT_MODE_SYNC;
  }
  const absl::string_view resource =
      colon == absl::string_view::npos || colon < dot
          ? name.substr(dot + 1)
          : name.substr(dot + 1, colon - dot - 1);
  if (absl::StartsWith(resource, "key_")) return iam::v1::AUDIT_MODE_SYNC;
  return iam::v1::AUDIT_MODE_ASYNC;
}

}  // namespace iam::audit
