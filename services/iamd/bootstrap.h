// Start-up steps of iamd that run before it serves, on the libraries
// directly: load the sample policy into an empty store, create the bootstrap
// admin and the server's own principal, and reconcile the authz service's
// copy of people's status with the identity registry (so a change that was
// committed in identity but not confirmed by authz before a crash is applied
// before any decision is served). Not thread-safe: call once, before serving.
#ifndef IAM_SERVICES_IAMD_BOOTSTRAP_H_
#define IAM_SERVICES_IAMD_BOOTSTRAP_H_

#include <string>

#include "absl/status/status.h"
#include "services/audit/audit_log.h"
#include "services/authz/engine.h"
#include "services/identity/person_registry.h"

namespace iam::iamd {

// Principal the co-hosted services use to call each other.
inline constexpr char kServerPrincipal[] = "svc:iamd";
// Roles the policy must define for the server principal and the admin.
inline constexpr char kServerRoleIdentity[] = "identity_service";
inline constexpr char kServerRoleChecker[] = "factory_system";
// Bound to the server principal when the policy defines it (HR lifecycle).
inline constexpr char kServerRoleLifecycle[] = "lifecycle_service";
// Bound to the server principal when the policy defines it (badges).
inline constexpr char kServerRoleBadge[] = "badge_service";
inline constexpr char kAdminRole[] = "iam_admin";

struct BootstrapOptions {
  // Directory of *.textproto policy files; applied when the store holds no
  // policy yet, or always when apply_policy is set. Empty: skip.
  std::string policy_dir;
  bool apply_policy = false;
  // Person id to create as an active iam_admin at "/" if absent. Empty: skip.
  std::string bootstrap_admin;
};

// Runs every step; the first failure is returned with what to fix. Each
// step that changes something writes it with its audit record to `log`
// (caller: kServerPrincipal), in one synced write.
absl::Status Bootstrap(const BootstrapOptions& options,
                       identity::PersonRegistry* registry,
                       authz::AuthzEngine* engine, audit::AuditLog* log);

}  // namespace iam::iamd

#endif  // IAM_SERVICES_IAMD_BOOTSTRAP_H_
