// Lifecycle: the HR joiner / mover / leaver engine behind the lifecycle
// service. No gRPC in here: it drives the identity, authz, password and badge
// services through the interfaces of ports.h and keeps its own records in
// the "lifecycle" column (lifecycle_store.h).
//
// Guarantees:
//  - Idempotency: an event id seen before returns the stored result (a
//    different request under a known id is ALREADY_EXISTS). An event that was
//    interrupted part way (state APPLYING) is resumed from its first step;
//    every step is idempotent (bindings carry "HR <event id>:" in their
//    reason, so a retry adopts rather than duplicates them).
//  - Order: events of one person apply in effective-time order. An event
//    effective before the last one applied for the person is refused; due
//    scheduled events of the person are applied before a new event.
//  - Revocation order: Suspend changes the status first (identity pushes
//    it to authz before committing, so every Check denies from then on),
//    then removes bindings (all of them in one authz commit) and suspends
//    badges, in parallel. Leave runs the status change, the binding
//    removal, the password and the badge revocations all in parallel: each
//    alone removes the access it covers. Hire and Reinstate
//    make every grant first and activate the person last. So no step ever
//    opens a window in which a decision allows what it should not.
//  - Nothing half-applied on bad input: every check that can refuse runs
//    before the first write.
//  - Every step is audited: each service audits its own change with the
//    "HR <event id>:" reason, and the lifecycle writes one record per event
//    (action "lifecycle.<type>", target the event id) listing every step,
//    synced alongside the event's final record.
//  - Synced writes of the lifecycle's own: the APPLYING record before the
//    first change (Suspend's carries the dormant grants too), and the final
//    record; a crash between them leaves the event APPLYING, resumed by a
//    retry, the scheduler, or start-up (startup.h).
//
// Thread-safe. Events of one person are serialized by a per-person lock held
// across the calls to the other services (their order is the point); events
// of different people run in parallel.
#ifndef IAM_SERVICES_LIFECYCLE_LIFECYCLE_H_
#define IAM_SERVICES_LIFECYCLE_LIFECYCLE_H_

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "proto/iam/v1/lifecycle.pb.h"
#include "services/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/lifecycle/birthright.h"
#include "services/lifecycle/lifecycle_store.h"
#include "services/lifecycle/ports.h"

namespace iam::lifecycle {

// The services an event drives. people and access are required;
// credentials and badges may be null when those services are not deployed
// (the event then says so in its steps).
struct Services {
  PersonDirectory* people = nullptr;
  AccessGrants* access = nullptr;
  CredentialRevoker* credentials = nullptr;
  BadgeRevoker* badges = nullptr;
};

class Lifecycle {
 public:
  // REQUIRES: every pointer outlives this object; store has kLifecycleColumn.
  Lifecycle(Store* store, const Clock* clock, const BirthrightPolicy* policy,
            Services services, audit::AuditLog* audit_log);

  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  // The events. `caller` is the authenticated caller (recorded and audited).
  // INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION / ALREADY_EXISTS for
  // bad input, with nothing changed; UNAVAILABLE when a service failed part
  // way (the event stays APPLYING and is resumed by a retry or the
  // scheduler).
  absl::StatusOr<iam::v1::HrEventResult> Hire(const iam::v1::HireRequest& request,
                                              absl::string_view caller);
  absl::StatusOr<iam::v1::HrEventResult> Move(const iam::v1::MoveRequest& request,
                                              absl::string_view caller);
  absl::StatusOr<iam::v1::HrEventResult> Leave(
      const iam::v1::LeaveRequest& request, absl::string_view caller);
  absl::StatusOr<iam::v1::HrEventResult> Suspend(
      const iam::v1::SuspendRequest& request, absl::string_view caller);
  absl::StatusOr<iam::v1::HrEventResult> Reinstate(
      const iam::v1::ReinstateRequest& request, absl::string_view caller);

  // The stored result; NOT_FOUND for an unknown event id.
  absl::StatusOr<iam::v1::HrEventResult> GetEvent(absl::string_view event_id) const;
  // Status, job history, every grant with its origin, scheduled events.
  absl::StatusOr<iam::v1::GetPersonHistoryResponse> History(
      absl::string_view person_id);
  // Records the attestation, then grants what no longer waits for it.
  absl::StatusOr<iam::v1::AttestationResult> RecordAttestation(
      const iam::v1::RecordAttestationRequest& request, absl::string_view caller);

  // Applies (or resumes) every queued event due at the clock's now, in
  // effective-time order. Returns how many reached APPLIED or FAILED; the
  // first error if any could not be finished (the others are still tried).
  absl::StatusOr<int> ApplyDue();
  // Grants pending grants whose prerequisites have been recorded meanwhile
  // (attestations recorded directly in the identity service).
  absl::Status ResolvePending();
  // Effective time of the earliest queued event.
  absl::optional<absl::Time> NextDue() const;

  // Called (without locks held) whenever an event is scheduled, so that a
  // scheduler sleeping until a later time wakes up.
  void set_schedule_listener(std::function<void()> listener) {
    schedule_listener_ = std::move(listener);
  }

 private:
  struct Attempt;

  absl::StatusOr<iam::v1::HrEventResult> Submit(internal::StoredEvent incoming,
                                                bool dry_run);
  absl::Mutex& LockFor(absl::string_view person_id);

  // REQUIRES (all below): the person's lock is held.
  absl::Status ValidateNew(const internal::StoredEvent& event, absl::Time effective,
                           const iam::v1::PersonLifecycle& life);
  absl::StatusOr<iam::v1::HrEventResult> Schedule(internal::StoredEvent event,
                                                  iam::v1::PersonLifecycle life);
  absl::StatusOr<iam::v1::HrEventResult> Run(internal::StoredEvent event,
                                             bool dry_run);
  absl::Status ApplyDueOfPersonLocked(absl::string_view person_id, int* applied);
  absl::Status RunSteps(Attempt& a);
  absl::Status StepsHire(Attempt& a);
  absl::Status StepsMove(Attempt& a);
  absl::Status StepsLeave(Attempt& a);
  absl::Status StepsSuspend(Attempt& a);
  absl::Status StepsReinstate(Attempt& a);
  absl::Status GrantBirthright(Attempt& a, const iam::v1::Person& person,
                               const std::vector<PlannedGrant>& planned,
                               const std::vector<iam::v1::RoleBinding>& existing);
  absl::StatusOr<std::vector<iam::v1::Grant>> GrantPendingLocked(
      const iam::v1::Person& person, iam::v1::PersonLifecycle* life,
      PersonDirectory* people, AccessGrants* access);
  absl::Status Audit(const internal::StoredEvent& event, absl::string_view action,
                     const absl::Status& outcome);
  void NotifyScheduled();

  Store* const store_;
  LifecycleStore records_;
  const Clock* const clock_;
  const BirthrightPolicy* const policy_;
  const Services services_;
  audit::AuditLog* const audit_log_;
  std::function<void()> schedule_listener_;

  std::array<absl::Mutex, 64> person_locks_;
  absl::Mutex claims_mu_;
  absl::flat_hash_set<std::string> claimed_events_ ABSL_GUARDED_BY(claims_mu_);
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_LIFECYCLE_H_
