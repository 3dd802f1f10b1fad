// BadgeRegistry: the badges (cards) issued to people, and their states.
//
// Rules it enforces on every write:
//   - a card number is 8-20 upper-case hex digits (an even count; lower case
//     and spaces are normalized away) and is never issued twice, not even
//     after the badge is lost or revoked;
//   - a person holds at most one active badge;
//   - lost and revoked are final: such a badge never becomes active again;
//   - a badge expires at a fixed second chosen at issue (at most 5 years).
// A rejected write changes nothing.
//
// Persistence: column "badge", serialized iam.v1.Badge under
// "badge/<id>" (ids "b-00000001", so key order is issue order) and the id
// counter under "meta/next_badge_id". Every write is one synced commit; its
// revision is stamped on the badges it changed.
//
// Thread-safe: reads take a shared lock on in-memory indexes; writes are
// serialized and publish only after their commit succeeded.
#ifndef IAM_SERVICES_BADGE_BADGE_REGISTRY_H_
#define IAM_SERVICES_BADGE_BADGE_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "proto/iam/v1/badge.pb.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::badge {

inline constexpr absl::Duration kMaxBadgeLifetime = absl::Hours(24 * 366 * 5);
inline constexpr size_t kMaxReasonLength = 500;

// The canonical form of a card number (upper-case hex, spaces removed), or
// INVALID_ARGUMENT saying what a card number looks like.
absl::StatusOr<std::string> NormalizeCardNumber(absl::string_view text);

class BadgeRegistry {
 public:
  // Loads the badges. DATA_LOSS if a record does not parse.
  // REQUIRES: store and clock outlive the registry.
  static absl::StatusOr<std::unique_ptr<BadgeRegistry>> Open(Store* store,
                                                              const Clock* clock);

  struct IssueRequest {
    std::string person_id;
    std::string card_number;
    iam::v1::BadgeKind kind = iam::v1::BADGE_KIND_EMPLOYEE;
    absl::Time expires_at;
    std::string issued_by;
    std::string reason;
  };
  // INVALID_ARGUMENT for a malformed card number, an expiry not in
  // (now, now + 5 years], a missing reason or person; ALREADY_EXISTS for a
  // card number issued before; FAILED_PRECONDITION if the person already has
  // an active badge. The person's status is the caller's to check. A set
  // `commit` (the service's audited commit) is told the new badge's id.
  absl::StatusOr<iam::v1::Badge> Issue(const IssueRequest& request,
                                       const NamedCommitFn& commit = nullptr);

  // ReportLost, Revoke and Resume commit through `commit` if set (the
  // service's audited commit).
  //
  // Lost: at once and for good. NOT_FOUND; FAILED_PRECONDITION if already
  // lost or revoked.
  absl::StatusOr<iam::v1::Badge> ReportLost(absl::string_view badge_id,
                                            absl::string_view reason,
                                            const CommitFn& commit = nullptr);
  // Revoked: for good. NOT_FOUND; FAILED_PRECONDITION if already final.
  absl::StatusOr<iam::v1::Badge> Revoke(absl::string_view badge_id,
                                        absl::string_view reason,
                                        const CommitFn& commit = nullptr);
  // Suspended -> active. NOT_FOUND; FAILED_PRECONDITION unless suspended,
  // if expired, or if the person has another active badge.
  absl::StatusOr<iam::v1::Badge> Resume(absl::string_view badge_id,
                                        absl::string_view reason,
                                        const CommitFn& commit = nullptr);
  // Every active badge of the person -> suspended / every badge not yet
  // final -> revoked, in one commit. Idempotent: none to change returns an
  // empty list and revision 0. Commits through `commit` if set (the
  // service's audited commit), with one op per changed badge.
  absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>> SuspendAllOf(
      absl::string_view person_id, absl::string_view reason,
      const CommitFn& commit = nullptr);
  absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>> RevokeAllOf(
      absl::string_view person_id, absl::string_view reason,
      const CommitFn& commit = nullptr);

  // NOT_FOUND.
  absl::StatusOr<iam::v1::Badge> Get(absl::string_view badge_id) const;
  // By canonical card number; nullopt if never issued.
  absl::optional<iam::v1::Badge> FindByCard(absl::string_view card_number) const;
  // Filtered (empty person / UNSPECIFIED state = any), ordered by id, after
  // `after_id`, at most `limit`.
  std::vector<iam::v1::Badge> List(absl::string_view person_id,
                                   iam::v1::BadgeState state,
                                   absl::string_view after_id, int limit) const;
  // Active, unexpired badges, ordered by id.
  std::vector<iam::v1::Badge> ActiveBadges() const;

 private:
  BadgeRegistry(Store* store, const Clock* clock) : store_(store), clock_(clock) {}

  // Commits the changed badges (and the id counter when `next_id` > 0),
  // stamps them with the revision and publishes them.
  absl::StatusOr<Revision> CommitLocked(std::vector<iam::v1::Badge>* changed,
                                        int64_t next_id,
                                        const CommitFn& commit = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A state change of one badge with the final-state rules.
  absl::StatusOr<iam::v1::Badge> ChangeState(absl::string_view badge_id,
                                             iam::v1::BadgeState to,
                                             absl::string_view reason,
                                             const CommitFn& commit);
  absl::StatusOr<std::pair<std::vector<iam::v1::Badge>, Revision>> ChangeAllOf(
      absl::string_view person_id, iam::v1::BadgeState to,
      absl::string_view reason,
      const CommitFn& commit);
  bool HasActiveLocked(absl::string_view person_id, absl::string_view except) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  Store* const store_;
  const Clock* const clock_;

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(write_mu_) = 1;

  mutable absl::Mutex mu_;
  std::map<std::string, iam::v1::Badge, std::less<>> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> id_by_card_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> ids_by_person_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_BADGE_REGISTRY_H_
