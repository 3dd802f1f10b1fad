// PasswordManager: the password service's domain, with no gRPC in it.
// Stores each person's Argon2id hash, history and lockout state in the
// Store's "password" column; applies the password policy; and runs the
// flows: Authenticate, ChangePassword, SetInitialPassword, Unlock, Revoke,
// CheckCandidate.
//
// Guarantees:
//  - A wrong password, an unknown person and a person without a password
//    give the same answer after the same work: the latter two are verified
//    against a dummy hash made with the current parameters, and their
//    failures lock out in memory exactly as stored accounts do.
//  - Only an ACTIVE person (per the PersonDirectory, asked after the
//    password proved right) logs in or changes a password.
//  - A stored hash that cannot be parsed fails closed (DATA_LOSS).
//  - A successful login whose hash used other Argon2 parameters re-hashes
//    with the current ones.
//  - Passwords are normalized into wiped, undumpable buffers and never
//    appear in a returned message.
//
// Hashing is synchronous and slow (tens of ms): callers run these methods on
// a bounded pool. Thread-safe.
#ifndef IAM_SERVICES_PASSWORD_PASSWORD_MANAGER_H_
#define IAM_SERVICES_PASSWORD_PASSWORD_MANAGER_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "proto/iam/v1/password.pb.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/password/argon2_hasher.h"
#include "services/password/blocklist.h"
#include "services/password/credential.pb.h"
#include "services/password/password_text.h"
#include "services/password/person_directory.h"
#include "services/password/policy_checker.h"
#include "services/password/throttle.h"

namespace iam::password {

// The Store column the password service owns.
inline constexpr absl::string_view kPasswordColumn = "password";

class PasswordManager {
 public:
  struct Options {
    // Prefix of libcrack2's packed dictionary; empty: its default.
    std::string cracklib_dict;
    // Bounds of the in-memory throttling state.
    size_t max_tracked_sources = 100000;
    size_t max_tracked_unknown_ids = 100000;
  };

  // Loads the stored policy (or the defaults). FAILED_PRECONDITION when the
  // policy needs the cracklib dictionary and it cannot be opened; DATA_LOSS
  // when the stored policy is unreadable. REQUIRES: store and clock outlive
  // the manager; the store has the "password" column.
  static absl::StatusOr<std::unique_ptr<PasswordManager>> Open(
      Store* store, const Clock* clock, Options options);

  // Until set, flows that need the person (every flow but Unlock, Revoke and
  // a CheckCandidate without a person) fail with UNAVAILABLE.
  // REQUIRES: directory outlives the manager.
  void set_directory(PersonDirectory* directory) { directory_.store(directory); }

  // --- Policy ---
  struct PolicyView {
    iam::v1::PasswordPolicy configured;
    iam::v1::PasswordPolicy effective;
    bool defaults_only = true;
  };
  PolicyView policy() const;
  // Validates (INVALID_ARGUMENT listing every problem), stores and applies
  // `configured`. Existing hashes are upgraded at each person's next login.
  absl::StatusOr<Revision> SetPolicy(const iam::v1::PasswordPolicy& configured,
                                     const CommitFn& commit = nullptr);

  // --- Flows ---
  struct AuthOutcome {
    iam::v1::AuthResult result = iam::v1::AUTH_RESULT_UNSPECIFIED;
    // With LOCKED: until when.
    absl::Time locked_until = absl::InfinitePast();
    // For the audit log only (never shown to the caller, who may be an
    // attacker): "wrong password", "no password", "suspended", ...
    std::string detail;
    // Revision of a synced write (re-hash, change); 0 if none.
    Revision revision = 0;
  };

  // INVALID_ARGUMENT for a malformed id, source or password;
  // RESOURCE_EXHAUSTED when `source` has failed too often (message says when
  // to retry); DATA_LOSS for a malformed stored hash; UNAVAILABLE when the
  // store or the identity service cannot answer.
  absl::StatusOr<AuthOutcome> Authenticate(absl::string_view person_id,
                                           absl::string_view password,
                                           absl::string_view source);

  // Checks `old_password` like a login (throttled, counted); when it is
  // right (OK or MUST_CHANGE) and the person is active, checks
  // `new_password` against the policy and history and stores it. A rejected
  // new password is INVALID_ARGUMENT naming every problem (before the old
  // one is tried, for the rules that do not depend on the person).
  absl::StatusOr<AuthOutcome> ChangePassword(absl::string_view person_id,
                                             absl::string_view old_password,
                                             absl::string_view new_password,
                                             absl::string_view source,
                                             const CommitFn& commit = nullptr);

  // An admin sets a password the person must change at the next login;
  // clears any lockout. NOT_FOUND for an unknown person,
  // FAILED_PRECONDITION for one who left, INVALID_ARGUMENT when the policy
  // or history rejects it.
  absl::StatusOr<Revision> SetInitialPassword(absl::string_view person_id,
                                              absl::string_view password,
                                              absl::string_view changed_by,
                                              const CommitFn& commit = nullptr);

  // Clears failures and lockout. Returns whether the person was locked out,
  // and the revision (0 if nothing was stored). NOT_FOUND when there is
  // neither a password nor a failure to clear.
  absl::StatusOr<std::pair<bool, Revision>> Unlock(absl::string_view person_id,
                                                   const CommitFn& commit = nullptr);

  // Deletes the person's password, history and lockout state. Returns
  // whether there was a password, and the revision (0 if nothing changed).
  // Idempotent. Commits through `commit` if set (see AuthzEngine).
  absl::StatusOr<std::pair<bool, Revision>> Revoke(
      absl::string_view person_id, const CommitFn& commit = nullptr);

  struct CandidateReport {
    std::vector<std::string> problems;
    int length = 0;
    double strength_bits = 0;
  };
  // The policy's verdict on a candidate, for `person_id` if not empty
  // (NOT_FOUND if unknown). History is never consulted.
  absl::StatusOr<CandidateReport> CheckCandidate(absl::string_view person_id,
                                                 absl::string_view password);

  // The person's credential state, for admins.
  absl::StatusOr<iam::v1::GetPasswordStatusResponse> Status(
      absl::string_view person_id);

 private:
  // Everything derived from one policy, swapped as a whole.
  struct PolicyState {
    iam::v1::PasswordPolicy configured;
    iam::v1::PasswordPolicy effective;
    bool defaults_only = true;
    std::unique_ptr<PasswordPolicyChecker> checker;
    Argon2Params params;
    LockoutRule lockout;
    SourceLimiter::Rate source_rate;
    // A hash of a random secret with `params`, for ids without a password.
    std::string dummy_phc;
  };
  using Credential = iam::password::internal::StoredCredential;

  PasswordManager(Store* store, const Clock* clock, Options options);

  absl::StatusOr<std::shared_ptr<const PolicyState>> BuildState(
      const iam::v1::PasswordPolicy& configured, bool defaults_only);
  std::shared_ptr<const PolicyState> state() const;

  absl::StatusOr<absl::optional<Credential>> Load(absl::string_view id) const;
  absl::Mutex& LockFor(absl::string_view id);
  absl::StatusOr<PersonRecord> LookupPerson(absl::string_view id);

  // One password attempt (login, or the old password of a change). On
  // success fills *person.
  absl::StatusOr<AuthOutcome> Attempt(const PolicyState& ps, absl::string_view id,
                                      const NormalizedPassword& password,
                                      absl::string_view source,
                                      PersonRecord* person);
  AuthOutcome Fail(const PolicyState& ps, absl::string_view id,
                   absl::string_view source, const std::string& verified_phc,
                   bool stored, absl::Time now, const char* detail);
  // INVALID_ARGUMENT if `password` matches the current or a recent password.
  absl::Status CheckHistory(const PolicyState& ps,
                            const absl::optional<Credential>& cred,
                            const NormalizedPassword& password) const;
  // Stores `new_phc` as the current password (the old one into history).
  absl::StatusOr<Revision> Replace(const PolicyState& ps, absl::string_view id,
                                   const absl::optional<Credential>& expected,
                                   std::string new_phc, bool must_change,
                                   absl::string_view changed_by,
                                   const CommitFn& commit);

  Store* const store_;
  const Clock* const clock_;
  const Options options_;
  std::atomic<PersonDirectory*> directory_{nullptr};
  std::unique_ptr<CracklibBlocklist> cracklib_;  // opened on first need
  SourceLimiter limiter_;
  PhantomFailures phantoms_;
  std::array<absl::Mutex, 64> person_locks_;

  // Serializes SetPolicy; guards the swap of state_.
  absl::Mutex policy_write_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const PolicyState> state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_PASSWORD_MANAGER_H_
