// EngineGrantSource: a GrantSource for a badge service hosted in the same
// process as the authz engine (iamd). Lookup reads the engine's current
// AuthzSnapshot directly (ListPermissions at the area's scope): no RPC, no
// lock, no cache. Every authz write publishes a new snapshot before it
// returns, so a revocation (binding deleted, person suspended or left) is
// seen by the next Lookup; and an answer is always from one snapshot.
//
// Only when the snapshot grants the person nothing at the scope (or does not
// know them) is `status_source` asked for their status, for a precise denial
// reason (e.g. the identity service through GrpcGrantSource); people with
// grants are active, since authz grants nothing to anyone else. Status()
// always forwards to `status_source`.
//
// Fails closed: an undeclared scope, or a status that cannot be read, is an
// error (UNAVAILABLE), which admission denies.
//
// A badge service hosted apart from authz uses GrpcGrantSource instead.
// Thread-safe.
#ifndef IAM_SERVICES_BADGE_ENGINE_GRANT_SOURCE_H_
#define IAM_SERVICES_BADGE_ENGINE_GRANT_SOURCE_H_

#include "services/authz/engine.h"
#include "services/badge/grant_source.h"
#include "services/common/clock.h"

namespace iam::badge {

class EngineGrantSource final : public GrantSource {
 public:
  // REQUIRES: every pointer outlives this object.
  EngineGrantSource(const authz::AuthzEngine* engine, const Clock* clock,
                    GrantSource* status_source)
      : engine_(engine), clock_(clock), status_source_(status_source) {}

  absl::StatusOr<PersonGrants> Lookup(absl::string_view person_id,
                                      absl::string_view scope) override;
  absl::StatusOr<iam::v1::PersonStatus> Status(
      absl::string_view person_id) override {
    return status_source_->Status(person_id);
  }

 private:
  const authz::AuthzEngine* const engine_;
  const Clock* const clock_;
  GrantSource* const status_source_;
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_ENGINE_GRANT_SOURCE_H_
