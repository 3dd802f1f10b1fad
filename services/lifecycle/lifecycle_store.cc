#include "services/lifecycle/lifecycle_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace iam::lifecycle {
namespace {

constexpr absl::string_view kEventPrefix = "event/";
constexpr absl::string_view kDuePrefix = "due/";
constexpr absl::string_view kPersonPrefix = "person/";
constexpr absl::string_view kPendingPrefix = "pending/";

std::string DueKey(int64_t effective_unix, absl::string_view event_id) {
  return absl::StrFormat("%s%020d/%s", kDuePrefix, effective_unix, event_id);
}

bool Queued(iam::v1::HrEventState state) {
  return state == iam::v1::HR_EVENT_STATE_SCHEDULED ||
         state == iam::v1::HR_EVENT_STATE_APPLYING;
}

}  // namespace

absl::StatusOr<internal::StoredEvent> LifecycleStore::GetEvent(
    absl::string_view event_id) const {
  absl::StatusOr<std::string> raw =
      store_->Get(kLifecycleColumn, absl::StrCat(kEventPrefix, event_id));
  if (!raw.ok()) return raw.status();
  internal::StoredEvent event;
  if (!event.ParseFromString(*raw)) {
    return absl::DataLossError(
        absl::StrCat("stored HR event '", event_id, "' cannot be read"));
  }
  return event;
}

absl::StatusOr<iam::v1::PersonLifecycle> LifecycleStore::GetPerson(
    absl::string_view person_id) const {
  iam::v1::PersonLifecycle person;
  absl::StatusOr<std::string> raw =
      store_->Get(kLifecycleColumn, absl::StrCat(kPersonPrefix, person_id));
  if (absl::IsNotFound(raw.status())) {
    person.set_person_id(std::string(person_id));
    return person;
  }
  if (!raw.ok()) return raw.status();
  if (!person.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat(
        "stored lifecycle record of person '", person_id, "' cannot be read"));
  }
  return person;
}

absl::StatusOr<std::vector<std::string>> LifecycleStore::DueEvents(
    absl::Time until) const {
  std::vector<std::string> ids;
  const std::string last = DueKey(absl::ToUnixSeconds(until), "");
  absl::Status scanned = store_->Scan(
      kLifecycleColumn, kDuePrefix,
      [&](absl::string_view key, absl::string_view) {
        // "due/<20 digits>/<id>": compare the time part only.
        if (key.substr(0, kDuePrefix.size() + 20) >
            absl::string_view(last).substr(0, kDuePrefix.size() + 20)) {
          return false;
        }
        ids.emplace_back(key.substr(kDuePrefix.size() + 21));
        return true;
      });
  if (!scanned.ok()) return scanned;
  return ids;
}

absl::StatusOr<absl::optional<absl::Time>> LifecycleStore::NextDue() const {
  absl::optional<absl::Time> next;
  absl::Status scanned = store_->Scan(
      kLifecycleColumn, kDuePrefix, [&](absl::string_view key, absl::string_view) {
        int64_t seconds = 0;
        if (absl::SimpleAtoi(key.substr(kDuePrefix.size(), 20), &seconds)) {
          next = absl::FromUnixSeconds(seconds);
        }
        return false;
      });
  if (!scanned.ok()) return scanned;
  return next;
}

absl::StatusOr<std::vector<std::string>> LifecycleStore::PeopleWithPending()
    const {
  std::vector<std::string> ids;
  absl::Status scanned = store_->Scan(
      kLifecycleColumn, kPendingPrefix,
      [&](absl::string_view key, absl::string_view) {
        ids.emplace_back(key.substr(kPendingPrefix.size()));
        return true;
      });
  if (!scanned.ok()) return scanned;
  return ids;
}

void LifecycleStore::PutEvent(const internal::StoredEvent& event,
                              WriteBatch* batch) {
  const iam::v1::HrEventResult& r = event.result();
  batch->Put(kLifecycleColumn, absl::StrCat(kEventPrefix, r.event_id()),
             event.SerializeAsString());
  const std::string due = DueKey(r.effective_at_unix(), r.event_id());
  if (Queued(r.state())) {
    batch->Put(kLifecycleColumn, due, "");
  } else {
    batch->Delete(kLifecycleColumn, due);
  }
}

void LifecycleStore::PutPerson(const iam::v1::PersonLifecycle& person,
                               WriteBatch* batch) {
  batch->Put(kLifecycleColumn, absl::StrCat(kPersonPrefix, person.person_id()),
             person.SerializeAsString());
  bool pending = false;
  for (const auto& g : person.grants()) {
    if (g.state() == iam::v1::GRANT_STATE_PENDING_PREREQUISITE) pending = true;
  }
  const std::string key = absl::StrCat(kPendingPrefix, person.person_id());
  if (pending) {
    batch->Put(kLifecycleColumn, key, "");
  } else {
    batch->Delete(kLifecycleColumn, key);
  }
}

}  // namespace iam::lifecycle
