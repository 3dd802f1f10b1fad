// In-memory fakes of the lifecycle's ports for unit tests: one FakeServices
// object plays identity + authz (people with status and attestations, role
// bindings, and a Check-like Allows()), password and badges. Any call can be
// made to fail, to test that events stop, report, and resume cleanly.
// Thread-safe. testonly.
#ifndef IAM_SERVICES_LIFECYCLE_FAKE_PORTS_H_
#define IAM_SERVICES_LIFECYCLE_FAKE_PORTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/lifecycle/ports.h"

namespace iam::lifecycle {

class FakeServices final : public PersonDirectory,
                           public AccessGrants,
                           public CredentialRevoker,
                           public BadgeRevoker {
 public:
  // PersonDirectory
  absl::StatusOr<iam::v1::Person> Get(absl::string_view person_id) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Create(
      const iam::v1::Person& person, absl::string_view reason) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Update(
      const iam::v1::Person& person, const std::vector<std::string>& mask,
      absl::string_view reason) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> RecordAttestation(
      absl::string_view person_id, iam::v1::AttestationType type,
      absl::string_view reason) override;
  // AccessGrants
  absl::StatusOr<std::vector<iam::v1::RoleBinding>> ListOf(
      absl::string_view person_id) override;
  absl::StatusOr<std::pair<iam::v1::RoleBinding, Revision>> Bind(
      const iam::v1::RoleBinding& binding) override;
  absl::StatusOr<Revision> Unbind(absl::string_view binding_id,
                                  absl::string_view reason) override;
  absl::StatusOr<Removed> UnbindAllOf(absl::string_view person_id,
                                      absl::string_view reason) override;
  // CredentialRevoker
  absl::StatusOr<CredentialRevoker::Result> Revoke(absl::string_view person_id,
                                                   absl::string_view reason) override;
  // BadgeRevoker
  absl::StatusOr<BadgeRevoker::Result> RevokeAll(absl::string_view person_id,
                                                 absl::string_view reason) override;
  absl::StatusOr<BadgeRevoker::Result> SuspendAll(absl::string_view person_id,
                                                  absl::string_view reason) override;
  absl::StatusOr<Revision> Resume(absl::string_view badge_id,
                                  absl::string_view reason) override;

  // --- Test controls and observations ---
  // The next `n` calls of `method` ("Update", "Bind", "Unbind",
  // "UnbindAllOf", "Revoke", "RevokeAll", ...) fail with UNAVAILABLE.
  void FailNext(const std::string& method, int n);
  // Whether an active person holds `role` at exactly `scope`.
  bool Allows(absl::string_view person_id, absl::string_view role,
              absl::string_view scope);
  void AddPerson(iam::v1::Person person);
  void SetPassword(absl::string_view person_id);
  bool HasPassword(absl::string_view person_id);
  // Issues an active badge; returns its id.
  std::string IssueBadge(absl::string_view person_id);
  // "active", "suspended" or "revoked".
  std::string BadgeState(absl::string_view badge_id);
  // Every reason passed to a write, in order.
  std::vector<std::string> reasons();
  // How many calls `method` has had (failed ones included).
  int calls(const std::string& method);
  Revision revision();

 private:
  absl::Status MaybeFail(const std::string& method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  Revision revision_ ABSL_GUARDED_BY(mu_) = 0;
  int next_binding_ ABSL_GUARDED_BY(mu_) = 1;
  int next_badge_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, iam::v1::Person> people_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, iam::v1::RoleBinding> bindings_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> passwords_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>> badges_
      ABSL_GUARDED_BY(mu_);  // id -> (person, state)
  std::map<std::string, int> fail_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> reasons_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_FAKE_PORTS_H_
