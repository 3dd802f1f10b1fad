// FakePersonDirectory: an in-memory PersonDirectory for tests, whose people
// and availability the test sets. Thread-safe.
#ifndef IAM_SERVICES_PASSWORD_FAKE_PERSON_DIRECTORY_H_
#define IAM_SERVICES_PASSWORD_FAKE_PERSON_DIRECTORY_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/password/person_directory.h"

namespace iam::password {

class FakePersonDirectory final : public PersonDirectory {
 public:
  void Put(const std::string& id, const std::string& name,
           iam::v1::PersonStatus status) {
    absl::MutexLock lock(&mu_);
    people_[id] = PersonRecord{id, name, status};
  }
  void SetStatus(const std::string& id, iam::v1::PersonStatus status) {
    absl::MutexLock lock(&mu_);
    people_[id].status = status;
  }
  void SetUnavailable(bool unavailable) {
    absl::MutexLock lock(&mu_);
    unavailable_ = unavailable;
  }
  absl::StatusOr<PersonRecord> Get(absl::string_view id) override {
    absl::MutexLock lock(&mu_);
    if (unavailable_) return absl::UnavailableError("identity service down");
    auto it = people_.find(id);
    if (it == people_.end()) {
      return absl::NotFoundError(absl::StrCat("person '", id, "' does not exist"));
    }
    return it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PersonRecord> people_ ABSL_GUARDED_BY(mu_);
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_FAKE_PERSON_DIRECTORY_H_
