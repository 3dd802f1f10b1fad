#include "services/lifecycle/startup.h"

#include <string>
#include <vector>

#include "services/common/status_macros.h"
#include "services/lifecycle/lifecycle_store.h"

namespace iam::lifecycle {

absl::StatusOr<int> ApplyDueStatusChanges(Store* store,
                                          identity::PersonRegistry* registry,
                                          const Clock* clock) {
  LifecycleStore records(store);
  ASSIGN_OR_RETURN(std::vector<std::string> due, records.DueEvents(clock->Now()));
  int changed = 0;
  for (const std::string& id : due) {
    ASSIGN_OR_RETURN(internal::StoredEvent event, records.GetEvent(id));
    const iam::v1::HrEventType type = event.type();
    if (type != iam::v1::HR_EVENT_TYPE_LEAVE && type != iam::v1::HR_EVENT_TYPE_SUSPEND) {
      continue;  // events that grant access may wait until the server is up
    }
    absl::StatusOr<iam::v1::Person> person = registry->Get(event.result().person_id());
    if (!person.ok()) continue;  // the event itself reports it when it runs
    iam::v1::PersonStatus want = type == iam::v1::HR_EVENT_TYPE_LEAVE
                                     ? iam::v1::PERSON_STATUS_LEFT
                                     : iam::v1::PERSON_STATUS_SUSPENDED;
    if (person->status() == want || person->status() == iam::v1::PERSON_STATUS_LEFT) {
      continue;
    }
    if (type == iam::v1::HR_EVENT_TYPE_SUSPEND &&
        person->status() != iam::v1::PERSON_STATUS_ACTIVE) {
      continue;  // the scheduler reports the mismatch when it runs the event
    }
    iam::v1::Person change;
    change.set_id(person->id());
    change.set_status(want);
    ASSIGN_OR_RETURN(auto updated, registry->Update(change, {"status"}));
    event.set_startup_status_revision(updated.second);
    WriteBatch batch;
    LifecycleStore::PutEvent(event, &batch);
    RETURN_IF_ERROR(store->Commit(batch).status());
    ++changed;
  }
  return changed;
}

}  // namespace iam::lifecycle
