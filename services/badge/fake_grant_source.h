// FakeGrantSource: a GrantSource whose people, statuses and role grants a
// test sets directly; it can also be made to fail. Thread-safe.
#ifndef IAM_SERVICES_BADGE_FAKE_GRANT_SOURCE_H_
#define IAM_SERVICES_BADGE_FAKE_GRANT_SOURCE_H_

#include <atomic>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/badge/grant_source.h"

namespace iam::badge {

class FakeGrantSource final : public GrantSource {
 public:
  void SetStatus(const std::string& person, iam::v1::PersonStatus status) {
    absl::MutexLock lock(&mu_);
    people_[person].status = status;
  }
  // Grants `role` at `scope` until `until`.
  void Grant(const std::string& person, const std::string& scope,
             const std::string& role, absl::Time until = absl::InfiniteFuture()) {
    absl::MutexLock lock(&mu_);
    people_[person].roles[scope][role] = until;
  }
  void RevokeAll(const std::string& person) {
    absl::MutexLock lock(&mu_);
    people_[person].roles.clear();
  }
  void set_failing(bool failing) { failing_ = failing; }
  int lookups() const { return lookups_; }

  absl::StatusOr<PersonGrants> Lookup(absl::string_view person_id,
                                      absl::string_view scope) override {
    ++lookups_;
    if (failing_) return absl::UnavailableError("fake grant source is down");
    absl::MutexLock lock(&mu_);
    auto it = people_.find(person_id);
    if (it == people_.end()) {
      return absl::NotFoundError(absl::StrCat("no person ", person_id));
    }
    PersonGrants g;
    g.status = it->second.status;
    if (g.status != iam::v1::PERSON_STATUS_ACTIVE) return g;
    auto roles = it->second.roles.find(scope);
    if (roles != it->second.roles.end()) {
      for (const auto& [role, until] : roles->second) g.roles[role] = until;
    }
    return g;
  }
  absl::StatusOr<iam::v1::PersonStatus> Status(absl::string_view person_id) override {
    absl::StatusOr<PersonGrants> g = Lookup(person_id, "");
    if (!g.ok()) return g.status();
    return g->status;
  }

 private:
  struct Person {
    iam::v1::PersonStatus status = iam::v1::PERSON_STATUS_ACTIVE;
    absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, absl::Time>> roles;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Person> people_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> failing_{false};
  std::atomic<int> lookups_{0};
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_FAKE_GRANT_SOURCE_H_
