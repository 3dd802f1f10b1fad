// EffectiveAuditMode: the one place that says how decisions on a permission
// are audited when its policy leaves audit_mode out (see AuditMode in
// proto/iam/v1/policy.proto): SYNC for firmware ("burning.*") and key-area
// ("area.*", "badge.*", "<system>.key_*:<action>") permissions, ASYNC for
// every other one. An explicit audit_mode always wins.
// Stateless; thread-safe.
#ifndef IAM_SERVICES_AUDIT_AUDIT_MODE_H_
#define IAM_SERVICES_AUDIT_AUDIT_MODE_H_

#include "absl/strings/string_view.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::audit {

// The mode for a permission named `name` whose policy says `declared`.
// Never returns AUDIT_MODE_UNSPECIFIED.
iam::v1::AuditMode EffectiveAuditMode(absl::string_view name,
                                      iam::v1::AuditMode declared);

inline iam::v1::AuditMode EffectiveAuditMode(const iam::v1::Permission& p) {
  return EffectiveAuditMode(p.name(), p.audit_mode());
}

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_AUDIT_MODE_H_
