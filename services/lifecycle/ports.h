// The services an HR event drives, as the lifecycle sees them. In iamd each
// is the co-hosted service's gRPC API over the in-process channel
// (grpc_ports.h); unit tests use in-memory fakes (fake_ports.h). Each call
// returns only once the service has durably applied it, and each is
// idempotent, so an interrupted event can be resumed from its first step.
//
// Every call carries a reason that starts with "HR <event id>:", which the
// service writes into its own audit record: the audit log ties each step to
// the HR event.
//
// Implementations are thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_PORTS_H_
#define IAM_SERVICES_LIFECYCLE_PORTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/identity.pb.h"
#include "services/common/store.h"

namespace iam::lifecycle {

// People (the identity service).
class PersonDirectory {
 public:
  virtual ~PersonDirectory() = default;
  // NOT_FOUND for an unknown id.
  virtual absl::StatusOr<iam::v1::Person> Get(absl::string_view person_id) = 0;
  virtual absl::StatusOr<std::pair<iam::v1::Person, Revision>> Create(
      const iam::v1::Person& person, absl::string_view reason) = 0;
  // Changes the fields named in `mask` (identity's update_mask).
  virtual absl::StatusOr<std::pair<iam::v1::Person, Revision>> Update(
      const iam::v1::Person& person, const std::vector<std::string>& mask,
      absl::string_view reason) = 0;
  virtual absl::StatusOr<std::pair<iam::v1::Person, Revision>> RecordAttestation(
      absl::string_view person_id, iam::v1::AttestationType type,
      absl::string_view reason) = 0;
};

// Role bindings (the authz service).
class AccessGrants {
 public:
  virtual ~AccessGrants() = default;
  // Every binding whose subject is the person, ordered by id.
  virtual absl::StatusOr<std::vector<iam::v1::RoleBinding>> ListOf(
      absl::string_view person_id) = 0;
  // Creates `binding` (id and created_* are assigned).
  virtual absl::StatusOr<std::pair<iam::v1::RoleBinding, Revision>> Bind(
      const iam::v1::RoleBinding& binding) = 0;
  // Deletes a binding. An already deleted binding is OK (revision 0).
  virtual absl::StatusOr<Revision> Unbind(absl::string_view binding_id,
                                          absl::string_view reason) = 0;
  struct Removed {
    std::vector<std::string> binding_ids;  // sorted; empty when none held
    Revision revision = 0;                 // 0 when none was removed
  };
  // Deletes every binding whose subject is the person, in one commit (authz
  // DeleteBindingsOf). A person without bindings is OK (nothing removed).
  virtual absl::StatusOr<Removed> UnbindAllOf(absl::string_view person_id,
                                              absl::string_view reason) = 0;
};

// Passwords (the password service).
class CredentialRevoker {
 public:
  virtual ~CredentialRevoker() = default;
  struct Result {
    bool revoked = false;  // false: the person had no password
    Revision revision = 0;
  };
  // Removes the person's password for good: no login until an admin sets a
  // new one.
  virtual absl::StatusOr<Result> Revoke(absl::string_view person_id,
                                        absl::string_view reason) = 0;
};

// Badges (the badge service).
class BadgeRevoker {
 public:
  virtual ~BadgeRevoker() = default;
  struct Result {
    std::vector<std::string> badge_ids;  // badges that changed
    Revision revision = 0;               // 0 when none changed
  };
  // Revokes (final) every badge of the person.
  virtual absl::StatusOr<Result> RevokeAll(absl::string_view person_id,
                                           absl::string_view reason) = 0;
  // Suspends every active badge of the person.
  virtual absl::StatusOr<Result> SuspendAll(absl::string_view person_id,
                                            absl::string_view reason) = 0;
  // Resumes one suspended badge. FAILED_PRECONDITION if it is no longer
  // suspended (revoked or lost meanwhile).
  virtual absl::StatusOr<Revision> Resume(absl::string_view badge_id,
                                          absl::string_view reason) = 0;
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_PORTS_H_
