// GrantSource: what admission needs to know about a person from the other
// services: their status (identity) and the roles they hold at an area's
// scope, with when each grant ends (authz). The gRPC implementation
// (grpc_grant_source.h) asks the services on every call, so an answer is
// never older than the call: a revocation that returned before is seen.
// Implementations are thread-safe.
#ifndef IAM_SERVICES_BADGE_GRANT_SOURCE_H_
#define IAM_SERVICES_BADGE_GRANT_SOURCE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/iam/v1/common.pb.h"

namespace iam::badge {

struct PersonGrants {
  iam::v1::PersonStatus status = iam::v1::PERSON_STATUS_UNSPECIFIED;
  // Every role the person holds at the scope (bound there or above, directly,
  // through a group, or inherited), with the end of the longest-lasting
  // grant of it (absl::InfiniteFuture() for no expiry). Empty unless active.
  absl::flat_hash_map<std::string, absl::Time> roles;
};

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
