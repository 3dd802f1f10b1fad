// GrantSource: what admission needs to know about a person from the other
// services: their status (identity) and the roles they hold at an area's
// scope, with when each grant ends (authz). The gRPC implementation
// (grpc_grant_source.h) asks the services on every call, and the engine one
// (engine_grant_source.h) reads the co-hosted authz engine's current
// snapshot, so an answer is never older than the call: a revocation that
// returned before is seen.
// Implementations are thread-safe.
#ifndef IAM_SERVICES_BADGE_GRANT_SOURCE_H_
#define IAM_SERVICES_BADGE_GRANT_SOURCE_H_

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/common.pb.h"

namespace iam::badge {

struct PersonGrants {
  iam::v1::PersonStatus status = iam::v1::PERSON_STATUS_UNSPECIFIED;
  // Every role the person holds at the scope (bound there or above, directly,
  // through a group, or inherited), with the end of the longest-lasting
  // grant of it (absl::InfiniteFuture() for no expiry). Empty unless active.
  absl::flat_hash_map<std::string, absl::Time> roles;
};

// Adds the roles on `granted`'s role path to `grants`, each until the grant
// ends (keeping the later end when a role is already there).
inline void AddGrantedRoles(const iam::v1::GrantedPermission& granted,
                            PersonGrants* grants) {
  const absl::Time until = granted.expires_at_unix() == 0
                               ? absl::InfiniteFuture()
                               : absl::FromUnixSeconds(granted.expires_at_unix());
  for (const std::string& role : granted.role_path()) {
    auto [it, added] = grants->roles.emplace(role, until);
    if (!added) it->second = std::max(it->second, until);
  }
}

class GrantSource {
 public:
  virtual ~GrantSource() = default;
  // NOT_FOUND for an unknown person; UNAVAILABLE (or another error) when it
  // cannot be decided, which admission treats as a denial.
  virtual absl::StatusOr<PersonGrants> Lookup(absl::string_view person_id,
                                              absl::string_view scope) = 0;
  // The person's status only; errors as for Lookup.
  virtual absl::StatusOr<iam::v1::PersonStatus> Status(
      absl::string_view person_id) = 0;
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_GRANT_SOURCE_H_
