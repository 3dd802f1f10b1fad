// Admission: the decision a door controller gets when a card is presented.
//
// Admitter::Admit checks, in order, and denies at the first failure with a
// reason: the door is known; the direction is given; the card number is well
// formed; the door's clock is within 5 minutes of the server's; the card was
// issued; the badge is not being decided at another door right now nor was
// it presented at another door in the last 3 seconds (a cloned card); then
// for an entry: the badge is active and unexpired; the person is known and
// active; an access level of the area matches them (listed, or holding a
// listed role at the area's scope with an unexpired grant) and its schedule
// is open now in the site's time zone (a visitor badge instead needs an
// escort: an employee admitted at the same door within the area's escort
// window); anti-passback (hard: a badge inside cannot enter again; soft: it
// can, flagged); the two-person rule (the first authorized badge waits, a
// second authorized person at the same door within the window opens it for
// both). An exit is admitted for any issued badge, so nobody is locked in,
// and marks the badge outside.
//
// Every decision goes to the caller's recorder (the durable audit record)
// before it is answered; if recording fails the decision becomes a denial and
// the presence changes it made are undone. AdmitThen does not wait for the
// record: it answers from the recorder's completion, so no thread is held
// while the record is synced (and the badge stays claimed, for the two-doors
// check, until then). Anything the Admitter cannot
// establish (grant source down, unknown person) denies.
//
// Who is inside each area (for anti-passback) is written to the store's
// badge column, unsynced, before the decision is recorded; the synced audit
// record that follows makes it durable with it.
//
// Thread-safe.
#ifndef IAM_SERVICES_BADGE_ADMISSION_H_
#define IAM_SERVICES_BADGE_ADMISSION_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/iam/v1/badge.pb.h"
#include "services/badge/area_model.h"
#include "services/badge/area_registry.h"
#include "services/badge/badge_registry.h"
#include "services/badge/grant_source.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::badge {

// The access levels of `area` that match a person with `grants` at `now`,
// schedules aside, and until when the match holds (the latest end among the
// grants it rests on; InfiniteFuture for listed people and grants without
// expiry). Empty unless the person is active.
struct LevelMatch {
  const LevelRule* level = nullptr;
  absl::Time until = absl::InfiniteFuture();
  std::string via;  // "listed" or "role <name>"
};
std::vector<LevelMatch> MatchLevels(const AreaRule& area,
                                    absl::string_view person_id,
                                    const PersonGrants& grants, absl::Time now);

struct AdmitInput {
  std::string door_id;
  std::string card_number;
  iam::v1::Direction direction = iam::v1::DIRECTION_UNSPECIFIED;
  int64_t presented_at_unix_micros = 0;
};

struct AdmitDecision {
  bool admitted = false;
  std::string reason;
  // Filled as far as they were established.
  std::string door_id;
  std::string area_id;
  std::string area_scope;
  std::string badge_id;
  std::string person_id;
  iam::v1::Direction direction = iam::v1::DIRECTION_UNSPECIFIED;
  // Another person admitted by the same decision (two-person rule).
  std::string companion_person_id;
};

class Admitter {
 public:
  struct Options {
    absl::Duration max_clock_skew = absl::Minutes(5);
    absl::Duration two_doors_window = absl::Seconds(3);
  };
  // Durably records a decision; an error turns it into a denial.
  using Recorder = std::function<absl::Status(const AdmitDecision&)>;
  // Called once when a decision's record is durable (OK) or failed.
  using RecordDone = std::function<void(absl::Status)>;
  // Starts durably recording a decision and calls `done` once, now or later
  // from any thread, with the outcome. `presence` holds the anti-passback
  // state the decision changes: the recorder stores it in the same synced
  // write as the record (so it is on disk exactly when the record is), or
  // not at all if the record fails.
  using AsyncRecorder = std::function<void(const AdmitDecision&,
                                           WriteBatch presence, RecordDone done)>;
  // Receives the final decision (after its record), once.
  using DecisionDone = std::function<void(AdmitDecision)>;

  // Loads who is inside from `store`. REQUIRES: every pointer outlives the
  // Admitter. Until set_grant_source is called every entry is denied.
  static absl::StatusOr<std::unique_ptr<Admitter>> Open(
      AreaRegistry* areas, BadgeRegistry* badges, Store* store,
      const Clock* clock, Options options);

  // REQUIRES: `source` outlives the Admitter.
  void set_grant_source(GrantSource* source) { grants_.store(source); }

  // Decides, records and returns the decision.
  AdmitDecision Admit(const AdmitInput& input, const Recorder& record);

  // Decides (blocking only on the grant source), hands the decision and its
  // presence changes to `record`, and returns; `done` gets the final
  // decision from `record`'s completion, on whichever thread completes it.
  // A failed record's undo (in memory, under a lock) runs there too, before
  // `done`.
  void AdmitThen(const AdmitInput& input, const AsyncRecorder& record,
                 DecisionDone done);

  // Whether the badge is inside the area (anti-passback state).
  bool IsInside(absl::string_view area_id, absl::string_view badge_id) const;

 private:
  struct BadgeTrack {
    std::string last_door;
    absl::Time last_at = absl::InfinitePast();
    bool in_flight = false;
  };
  struct DoorState {
    // Two-person rule: the first authorized badge waiting for a second.
    std::string pending_person, pending_badge;
    absl::Time pending_at = absl::InfinitePast();
    // Escorts: the last employee admitted in.
    std::string escort_person;
    absl::Time escort_at = absl::InfinitePast();
  };
  // The presence changes of one decision, to write and (on failure) undo.
  struct PresenceChange {
    std::string area_id, badge_id;
    bool inside = false, was_inside = false;
  };
  // One decision awaiting its record.
  struct Pending {
    AdmitDecision d;
    std::vector<PresenceChange> changes;
    DoorState door_before;
    bool door_touched = false;   // door_before holds the door's earlier state
    std::string claimed_badge;   // in flight until recorded; empty if none
  };

  Admitter(AreaRegistry* areas, BadgeRegistry* badges, Store* store,
           const Clock* clock, Options options)
      : areas_(areas), badges_(badges), store_(store), clock_(clock),
        options_(options) {}

  // Everything before the record: fills `p`, claims the badge.
  void Decide(const AdmitInput& input, Pending* p);
  // After the record: undoes `p` if it failed, releases the badge.
  void Finish(Pending* p, const absl::Status& recorded);
  // The entry checks after the badge was claimed.
  void DecideEntry(const AreaRule& area, const iam::v1::Badge& badge,
                   absl::Time now, AdmitDecision* d,
                   std::vector<PresenceChange>* changes, DoorState* door_before,
                   bool* door_saved);
  // The store writes that make `changes` persist.
  static WriteBatch PresenceBatch(const std::vector<PresenceChange>& changes);
  static std::string InsideKey(absl::string_view area_id,
                               absl::string_view badge_id);

  AreaRegistry* const areas_;
  BadgeRegistry* const badges_;
  Store* const store_;
  const Clock* const clock_;
  const Options options_;
  std::atomic<GrantSource*> grants_{nullptr};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, BadgeTrack> tracks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, DoorState> doors_ ABSL_GUARDED_BY(mu_);
  // InsideKey(area, badge) of every badge inside an area.
  absl::flat_hash_set<std::string> inside_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_ADMISSION_H_
