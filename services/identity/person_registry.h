// PersonRegistry: the people the factory knows, their status, job, manager,
// groups and attestations. The domain object behind the identity service; no
// gRPC in here.
//
// Each person is stored in the Store's identity column as a serialized
// iam::v1::Person under "person/<id>". All people are also held in memory,
// ordered by id, and loaded once at Open; reads never touch the store.
//
// Writes are serialized, validated against the current state, committed
// synced, and only then become visible to readers: a failed commit changes
// nothing. Every write returns the person as stored and the revision it
// committed at.
//
// Thread-safe: any number of threads may call any method concurrently.
#ifndef IAM_SERVICES_IDENTITY_PERSON_REGISTRY_H_
#define IAM_SERVICES_IDENTITY_PERSON_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/iam/v1/identity.pb.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::identity {

// Validation rules (errors name the field and the rule):
//   id            1-64 characters of [A-Za-z0-9._:-]
//   display_name  1-200 characters (UTF-8), not blank, no control characters
//   org_unit      optional, at most 100 characters of printable ASCII
//   job_code      required, 1-100 characters of printable ASCII, no spaces
//   site          required, 1-100 characters of printable ASCII, no spaces
//   manager_id    empty, or the id of a known person who has not left; never
//                 the person itself; no manager cycles
//   status        a known PersonStatus; UNSPECIFIED means PENDING on Create
//   groups        at most 100, no duplicates, each following the id rule
// A person whose status is LEFT can never be changed again.
class PersonRegistry {
 public:
  // Loads every person from `store`. DATA_LOSS if a stored person cannot be
  // read. REQUIRES: store and clock outlive the registry.
  static absl::StatusOr<std::unique_ptr<PersonRegistry>> Open(
      Store* store, const Clock* clock);

  PersonRegistry(const PersonRegistry&) = delete;
  PersonRegistry& operator=(const PersonRegistry&) = delete;

  // Creates `person`. Its revision and attestations are ignored.
  // INVALID_ARGUMENT for a field breaking the rules above, ALREADY_EXISTS for
  // a known id, FAILED_PRECONDITION for an unknown or departed manager.
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Create(
      iam::v1::Person person, const CommitFn& commit = nullptr);

  // Changes the fields of person.id() named by `update_mask` (display_name,
  // org_unit, job_code, manager_id, site, status, groups; empty means all of
  // them) to their values in `person`. Attestations and revision are ignored.
  // INVALID_ARGUMENT for an unknown path or a field breaking the rules (a
  // status update must name a status), NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION if the person has left, for an unknown or departed
  // manager, or for a manager cycle.
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Update(
      const iam::v1::Person& person,
      const std::vector<std::string>& update_mask,
      const CommitFn& commit = nullptr);

  // The person with `id`, or NOT_FOUND.
  absl::StatusOr<iam::v1::Person> Get(absl::string_view id) const;

  // People ordered by id, filtered by the request's non-empty filters (all of
  // them must match; org_unit, site, job_code and manager_id match exactly).
  // page_size 0 means 100; below 0 or above 1000 is INVALID_ARGUMENT, as is a
  // page_token that no earlier response returned. next_page_token is empty
  // when no further person matches.
  absl::StatusOr<iam::v1::ListPeopleResponse> List(
      const iam::v1::ListPeopleRequest& request) const;

  // Records, or refreshes, the attestation `type` for `person_id`, stamped
  // with the clock's now and `recorded_by` (the authenticated caller).
  // INVALID_ARGUMENT for an unspecified type or empty recorded_by, NOT_FOUND
  // for an unknown person, FAILED_PRECONDITION if the person has left.
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> RecordAttestation(
      absl::string_view person_id, iam::v1::AttestationType type,
      absl::string_view recorded_by, const CommitFn& commit = nullptr);

  // Every person, ordered by id. For reconciling other services at startup.
  std::vector<iam::v1::Person> All() const;

 private:
  using PersonMap = std::map<std::string, iam::v1::Person, std::less<>>;

  PersonRegistry(Store* store, const Clock* clock, PersonMap people);

  // A copy of the person with `id`, or NOT_FOUND.
  absl::StatusOr<iam::v1::Person> Find(absl::string_view id) const;

  // Checks that `manager_id` may become the manager of `person_id`: a known
  // person who has not left and who is not managed, directly or through a
  // chain, by `person_id`.
  absl::Status CheckNewManager(absl::string_view person_id,
                               absl::string_view manager_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // Commits `person` (through `commit` if set), then publishes it to
  // readers.
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> CommitLocked(
      iam::v1::Person person, const CommitFn& commit)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  Store* const store_;
  const Clock* const clock_;

  // Held by writers from validation through publication, so that every
  // write validates against the state it will replace.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  PersonMap people_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::identity

#endif  // IAM_SERVICES_IDENTITY_PERSON_REGISTRY_H_
