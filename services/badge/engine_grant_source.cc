#include "services/badge/engine_grant_source.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace iam::badge {

absl::StatusOr<PersonGrants> EngineGrantSource::Lookup(absl::string_view person_id,
                                                       absl::string_view scope) {
  PersonGrants grants;
  // One snapshot for the whole answer: it cannot change under us.
  std::shared_ptr<const authz::AuthzSnapshot> snapshot = engine_->snapshot();
  // A person identity knows but authz has never been told about holds
  // nothing; the status source below says whether they exist at all.
  if (snapshot->HasSubject(person_id)) {
    absl::StatusOr<std::vector<iam::v1::GrantedPermission>> granted =
        snapshot->ListPermissions(person_id, scope, clock_->Now());
    if (!granted.ok()) {
      // The person is known, so this is about the scope (the area's scope is
      // not declared in the authz policy): nothing can be decided.
      return absl::UnavailableError(
          absl::StrCat("authz: ", granted.status().message()));
    }
    for (const iam::v1::GrantedPermission& g : *granted) AddGrantedRoles(g, &grants);
  }
  if (!grants.roles.empty()) {
    // Authz grants nothing to a person who is not active (identity tells it
    // about a suspension or a departure before committing it).
    grants.status = iam::v1::PERSON_STATUS_ACTIVE;
    return grants;
  }
  absl::StatusOr<iam::v1::PersonStatus> status = status_source_->Status(person_id);
  if (!status.ok()) return status.status();
  grants.status = *status;
  return grants;
}

}  // namespace iam::badge
