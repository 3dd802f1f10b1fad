// LifecycleStore: the lifecycle service's records in the Store's "lifecycle"
// column:
//   event/<event id>                     StoredEvent (request, state, result)
//   due/<20-digit unix seconds>/<event>  "" while an event is SCHEDULED or
//                                        APPLYING: the scheduler's queue
//   person/<person id>                   PersonLifecycle (history, grants)
//   pending/<person id>                  "" while the person has grants
//                                        waiting for prerequisites
// Reads go to the store; writes are added to a caller's WriteBatch so that an
// event's state, queue entry and person record change in one commit.
// Thread-safe (stateless apart from the Store, which is).
#ifndef IAM_SERVICES_LIFECYCLE_LIFECYCLE_STORE_H_
#define IAM_SERVICES_LIFECYCLE_LIFECYCLE_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "proto/iam/v1/lifecycle.pb.h"
#include "services/common/store.h"
#include "services/lifecycle/stored_event.pb.h"

namespace iam::lifecycle {

inline constexpr absl::string_view kLifecycleColumn = "lifecycle";

class LifecycleStore {
 public:
  // REQUIRES: store outlives this object and has kLifecycleColumn.
  explicit LifecycleStore(Store* store) : store_(store) {}

  Store* store() const { return store_; }

  // NOT_FOUND when absent; DATA_LOSS when unreadable.
  absl::StatusOr<internal::StoredEvent> GetEvent(absl::string_view event_id) const;
  // An empty PersonLifecycle (with person_id set) when absent.
  absl::StatusOr<iam::v1::PersonLifecycle> GetPerson(
      absl::string_view person_id) const;

  // Ids of queued events due at or before `until`, in effective-time order
  // (then by id).
  absl::StatusOr<std::vector<std::string>> DueEvents(absl::Time until) const;
  // Effective time of the earliest queued event, if any.
  absl::StatusOr<absl::optional<absl::Time>> NextDue() const;
  // People with pending grants.
  absl::StatusOr<std::vector<std::string>> PeopleWithPending() const;

  // Puts `event`; queues it when SCHEDULED or APPLYING, dequeues otherwise.
  static void PutEvent(const internal::StoredEvent& event, WriteBatch* batch);
  // Puts `person` and keeps the pending index in step.
  static void PutPerson(const iam::v1::PersonLifecycle& person, WriteBatch* batch);

 private:
  Store* const store_;
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_LIFECYCLE_STORE_H_
