// Start-up catch-up of the lifecycle, run by iamd before it serves: the
// status change of every Leave or Suspend that came due (or was part way)
// while the server was down is applied directly to the person registry, so
// that the reconciliation that follows (bootstrap.cc) pushes it to authz and
// no decision is ever served from the old status. The remaining steps
// (bindings, password, badges) follow through the APIs as soon as the
// server is up (Scheduler::RunPass). Not thread-safe: call once, first.
#ifndef IAM_SERVICES_LIFECYCLE_STARTUP_H_
#define IAM_SERVICES_LIFECYCLE_STARTUP_H_

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/identity/person_registry.h"

namespace iam::lifecycle {

// Returns how many people's status it changed.
absl::StatusOr<int> ApplyDueStatusChanges(Store* store,
                                          identity::PersonRegistry* registry,
                                          const Clock* clock);

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_STARTUP_H_
